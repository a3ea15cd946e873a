"""Which sidecar files belong to a photo, and where its export writes them.

Naming, decided in the photo's own folder (listed once per folder):
- Adobe style `STEM.xmp` (R0001234.DNG -> R0001234.xmp) by default, an existing `STEM.XMP` in another
  case included;
- darktable style `NAME.EXT.xmp` (R0001234.DNG.xmp) where such a file exists already: that one is
  updated (and the Adobe one too when it exists as well);
- when several photos in a folder share a stem (R0001234.DNG and R0001234.JPG), `STEM.xmp` belongs to
  the first RAW of them by name, as in Adobe's applications, and every other takes `NAME.EXT.xmp`.

Destinations: `mirror` writes under a mirror root (LIBRARY/export/xmp by default) at the photo's full
path (`mirrored`), starting from the sidecar beside the photo when there is one, so copying the mirror
over the photo folders loses nothing; `sidecar` writes beside the photo itself. A replaced file is first
copied to the run's backup folder (LIBRARY/export/backup/<time>-<pid>/ at the file's full path), which
is on disk before the sidecar is replaced.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from fluxcull.interop.fileio import mirrored, read_limited, remove_stale_temps
from fluxcull.interop.xmp_fields import OWNED, XmpPolicy, target_values
from fluxcull.interop.xmp_merge import MAX_SIDECAR_BYTES, Sidecar, SidecarRefused
from fluxcull.media.formats import IMAGE_EXTENSIONS, RAW_EXTENSIONS, is_raw

PHOTO_EXTENSIONS = IMAGE_EXTENSIONS | RAW_EXTENSIONS


class FolderIndex:
    """One folder's names: by lower case, and the photos by lower-case stem."""

    def __init__(self, names: list[str]):
        self.names = {n.casefold(): n for n in names}
        self.exact = set(names)
        self.stems: dict[str, list[str]] = {}
        for n in names:
            stem, ext = os.path.splitext(n)
            if ext.lower() in PHOTO_EXTENSIONS and not n.startswith("."):
                self.stems.setdefault(stem.casefold(), []).append(n)


class SidecarNamer:
    def __init__(self):
        self._folders: dict[str, FolderIndex | None] = {}

    def index(self, folder: str) -> FolderIndex | None:
        if folder not in self._folders:
            try:
                self._folders[folder] = FolderIndex(os.listdir(folder))
            except OSError:
                self._folders[folder] = None
        return self._folders[folder]

    def names(self, photo_path: str) -> list[str]:
        """The sidecar file names of this photo in its folder (see the module docstring)."""
        folder, name = os.path.split(photo_path)
        stem = os.path.splitext(name)[0]
        idx = self.index(folder)
        adobe = f"{stem}.xmp"
        if idx is None:
            return [adobe]
        darktable = idx.names.get(f"{name}.xmp".casefold())
        adobe_have = idx.names.get(adobe.casefold())
        same_stem = idx.stems.get(stem.casefold(), [name])
        raws = sorted(n for n in same_stem if is_raw(n))
        owner = len(same_stem) <= 1 or (bool(raws) and raws[0] == name)
        out = [darktable] if darktable else []
        if owner and (adobe_have or not darktable):
            out.append(adobe_have or adobe)
        if not out:
            out.append(f"{name}.xmp")
        return out


@dataclass
class Outcome:
    target: Path
    status: str                                   # "written" (or, dry, would be), "unchanged"
    files: list[tuple[Path, bytes]] = field(default_factory=list)  # to write, in order: backup, sidecar
    backup: Path | None = None


@dataclass
class XmpWriter:
    """Writes one photo's sidecars to a destination (see the module docstring)."""

    kind: str                   # "mirror" or "sidecar"
    root: Path | None           # the mirror root (kind "mirror")
    backup_root: Path
    policy: XmpPolicy
    dry_run: bool = False

    def __post_init__(self):
        self.namer = SidecarNamer()
        self._cleaned: set[Path] = set()
        self._fresh_cache: dict[tuple, bytes] = {}

    def _fresh(self, photo: dict) -> bytes:
        """fluxcull's own new sidecar for this photo. Merging the same photo into it again changes
        nothing (target_values keeps what it wrote), so an existing file equal to it is up to date."""
        values = target_values(photo, {}, self.policy)
        key = tuple(values[p] for p in OWNED)
        data = self._fresh_cache.get(key)
        if data is None:
            if len(self._fresh_cache) >= 4096:
                self._fresh_cache.clear()
            data = self._fresh_cache[key] = Sidecar.new().with_values(values)
        return data

    def photo_present(self, photo_path: str) -> bool:
        folder, name = os.path.split(photo_path)
        idx = self.namer.index(folder)
        return idx is not None and name in idx.exact

    def targets(self, photo_path: str) -> list[tuple[Path, Path]]:
        """(the sidecar beside the photo, where this export writes it) for each of its sidecar names."""
        folder = os.path.dirname(photo_path)
        out = []
        for name in self.namer.names(photo_path):
            beside = Path(folder) / name
            out.append((beside, beside if self.kind == "sidecar" else mirrored(self.root, beside)))
        return out

    def prepare(self, photo: dict, beside: Path, target: Path) -> Outcome:
        """What bringing one sidecar of this photo up to date takes: the files to write (for
        fileio.write_units), or nothing when it is up to date or the run is dry. SidecarRefused (its
        `path`: the file refused) or OSError say what went wrong."""
        existing = read_limited(target, MAX_SIDECAR_BYTES)
        base, source = existing, target
        if self.kind == "mirror":
            mine = read_limited(beside, MAX_SIDECAR_BYTES)
            if mine is not None:
                base, source = mine, beside
        fresh = self._fresh(photo) if base is existing else None
        if fresh is not None and (base is None or base == fresh):
            data = fresh  # a new sidecar, or fluxcull's own saying the same already: nothing to parse
        else:
            try:
                sidecar = Sidecar.parse(base)  # type: ignore[arg-type]
            except SidecarRefused as exc:
                exc.path = source
                raise
            data = sidecar.with_values(target_values(photo, sidecar.current, self.policy))
        if data == existing:
            return Outcome(target, "unchanged")
        if self.dry_run:
            return Outcome(target, "written")
        out = Outcome(target, "written")
        if existing is not None:
            out.backup = mirrored(self.backup_root, target)
            out.backup.parent.mkdir(parents=True, exist_ok=True)
            out.files.append((out.backup, existing))
        folder = target.parent
        if self.kind == "mirror":
            folder.mkdir(parents=True, exist_ok=True)
        if folder not in self._cleaned:
            self._cleaned.add(folder)
            remove_stale_temps(folder)
        out.files.append((target, data))
        return out
