"""Loading Qt before anything else for `fluxcull gui` (called by the CLI before it opens the library).

Qt's GUI libraries must be in the process before anything loads pillow_heif's bundled codec
libraries (opening a library can: housekeeping, formats): in the other order the window's thumbnail
threads crashed in QImageReader (a segmentation fault in about 3 of 4 offscreen starts from an
installed wheel). Without PySide6 nothing is loaded here and `gui` says why itself.
"""

from __future__ import annotations


def load_qt_first() -> None:
    try:
        import PySide6.QtGui  # noqa: F401
    except ImportError:
        pass
