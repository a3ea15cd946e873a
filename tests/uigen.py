"""For the GUI tests: a catalog filled directly (sessions, photos with real files, thumbnails, scores),
a key press that waits for what it caused, the decisions read back. (The `open_window` and `window`
fixtures are in conftest.py.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image

from fluxcull.catalog import transaction
from fluxcull.media.thumbs import thumb_path
from photogen import scene


def fill_catalog(lib, conn, root: Path, *, sessions: int = 2, per_session: int = 6, role: str = "originals",
                 scores: bool = True, start: float = 1_700_000_000.0) -> list[int]:
    """Insert `sessions` x `per_session` photos with JPEG files and 512 px thumbnails; return ids in time order."""
    root.mkdir(parents=True, exist_ok=True)
    ids = []
    with transaction(conn):
        for s in range(sessions):
            t0 = start + s * 86400
            cur = conn.execute(
                "INSERT INTO sessions(role, start_time, end_time, start_at, end_at, photo_count, place)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (role, t0, t0 + per_session * 10, f"2023-11-{14 + s:02d}T22:13:20", f"2023-11-{14 + s:02d}T22:14:20",
                 per_session, f"Place {s}"),
            )
            sid = cur.lastrowid
            for i in range(per_session):
                n = s * per_session + i
                img = scene(n, size=(320, 240))
                path = root / f"R{n:07d}.JPG"
                img.save(path, "JPEG", quality=80)
                sha = hashlib.sha256(path.read_bytes()).hexdigest()
                key = f"{sha}-512"
                tp = Path(thumb_path(lib, key))
                tp.parent.mkdir(parents=True, exist_ok=True)
                img.save(tp, "JPEG", quality=80)
                score = round((n * 37 % 100) / 100.0, 2) if scores else None
                cur = conn.execute(
                    "INSERT INTO photos(path, role, size, mtime_ns, sha256, format, width, height, capture_time,"
                    " taken_at, session_id, thumb_key, keeper_score, camera_make, camera_model, iso)"
                    " VALUES (?, ?, ?, ?, ?, 'jpeg', 320, 240, ?, ?, ?, ?, ?, 'RICOH', 'GR III', 200)",
                    (str(path), role, path.stat().st_size, path.stat().st_mtime_ns, sha, t0 + i * 10,
                     f"2023-11-{14 + s:02d}T22:13:{20 + i:02d}", sid, key, score),
                )
                ids.append(cur.lastrowid)
    return ids


def solid_thumb(lib, key: str, colour=(90, 90, 90), size=(512, 384)) -> Path:
    tp = Path(thumb_path(lib, key))
    tp.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(tp, "JPEG", quality=80)
    return tp


def press(qtbot, win, widget, key, modifier=None) -> None:
    """A key press on `widget`, then wait until the window's writer thread has committed what it caused,
    its reader thread is idle and the grid holds every id of its query."""
    from PySide6.QtCore import Qt

    qtbot.keyClick(widget, key, Qt.NoModifier if modifier is None else modifier)
    qtbot.waitUntil(lambda: win.writer.idle() and win.reader.idle() and win.model.complete, timeout=5000)


def settle(qtbot, win) -> None:
    """Wait until the filter bar's pause is over and the grid holds every id of the query it ran."""
    qtbot.waitUntil(lambda: not win.filters.find.timer.isActive() and win.reader.idle() and win.model.complete,
                    timeout=5000)


def decisions(conn, ids: list[int]) -> list[str]:
    """The decision of each photo, in the order of `ids`."""
    got = dict(conn.execute("SELECT id, decision FROM photos"))
    return [got[i] for i in ids]
