"""A rejected photo in the loupe keeps its pixels (its exposure must stay judgeable): marked by a red
frame, never dimmed."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")


def _render(qtbot, rejected: bool):
    from PySide6.QtGui import QColor, QImage

    from fluxcull.ui.images import ImagePane

    pane = ImagePane()
    qtbot.addWidget(pane)
    pane.resize(300, 200)
    img = QImage(600, 400, QImage.Format_RGB32)
    img.fill(QColor(150, 150, 150))
    pane.set_image(img)
    pane.rejected = rejected
    return pane.grab().toImage()


def _interior_mean(img) -> float:
    w, h = img.width(), img.height()
    vals = [img.pixelColor(x, y).lightness() for x in range(w // 4, 3 * w // 4, 7) for y in range(h // 4, 3 * h // 4, 7)]
    return sum(vals) / len(vals)


def test_a_rejected_photo_is_framed_not_dimmed(qtbot):
    cleared = _render(qtbot, False)
    rejected = _render(qtbot, True)
    assert _interior_mean(rejected) == pytest.approx(_interior_mean(cleared), abs=0.5)
    edge = rejected.pixelColor(1, rejected.height() // 2)
    assert edge.red() > 150 and edge.green() < 100  # the red frame says "rejected"
    plain = cleared.pixelColor(1, cleared.height() // 2)
    assert abs(plain.red() - plain.green()) < 10  # no frame on a cleared photo
