"""Where an export may write: never into the photographer's folders unless asked for sidecars.

A destination folder is refused when it is, or lies inside, a role folder: the ORIGINALS, KEEPERS and
INBOX folders of the library's settings, and per role the deepest folder holding all of its
catalogued photos (unless that folder is the file system's root, the home folder or above it: too
wide to stand for one role). It is refused too when catalogued photos lie in it or below it.
"""

from __future__ import annotations

import os
from pathlib import Path

from fluxcull.catalog import Catalog
from fluxcull.errors import InvalidValue
from fluxcull.interop.fileio import inside

EXPORT_DIR = "export"


def export_root(lib) -> Path:
    """LIBRARY/export: the XMP mirror folder (xmp/) and the backups of replaced sidecars (backup/)."""
    return Path(lib.root) / EXPORT_DIR


def _too_wide(folder: Path) -> bool:
    home = Path.home()
    return folder == Path(folder.anchor) or folder == home or inside(home, folder)


def role_folders(catalog: Catalog) -> list[tuple[str, Path]]:
    """(role, folder) of the photographer's role folders, as the module docstring says."""
    out = [(role, Path(f)) for role, f in catalog.folders().items() if f]
    for role, folder in catalog.photo_roots().items():
        p = Path(folder)
        if not _too_wide(p):
            out.append((role, p))
    return out


def check_destination(catalog: Catalog, dest: Path, option: str = "--dest") -> Path:
    """`dest` made absolute, or InvalidValue when it is a file or lies among the photographer's photos."""
    dest = Path(os.path.abspath(os.path.expanduser(dest)))
    if dest.exists() and not dest.is_dir():
        raise InvalidValue(f"{option} {dest}: is a file, not a folder")
    for role, folder in role_folders(catalog):
        if inside(dest, folder):
            raise InvalidValue(f"{option} {dest} is inside your {role.upper()} folder {folder}: fluxcull writes "
                               "nothing among your photos; choose a folder outside it")
    for candidate in {str(dest), os.path.realpath(dest)}:
        if catalog.has_photos_under(candidate):
            raise InvalidValue(f"{option} {dest} holds photos of this library: fluxcull writes nothing among your "
                               "photos; choose an empty folder or one of its own")
    return dest
