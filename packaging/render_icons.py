"""Render fluxcull's PNG icons (48, 128 and 256 px) from its SVG with Qt's QSvgRenderer.

Run at build time, not by fluxcull itself (only fluxcull.ui imports Qt):

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py

The PNGs are committed beside the SVG in fluxcull/resources/icons/ and ship as package data.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "fluxcull" / "resources" / "icons"
SIZES = (48, 128, 256)


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - Qt needs one
    renderer = QSvgRenderer(str(ICONS / "fluxcull.svg"))
    if not renderer.isValid():
        print(f"cannot read {ICONS / 'fluxcull.svg'}", file=sys.stderr)
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format_ARGB32)
        image.fill(Qt.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.Antialiasing)
        renderer.render(painter)
        painter.end()
        out = ICONS / f"fluxcull-{size}.png"
        if not image.save(str(out)):
            print(f"cannot write {out}", file=sys.stderr)
            return 1
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
