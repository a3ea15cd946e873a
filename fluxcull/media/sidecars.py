"""Which XMP sidecar file belongs to which photo: the two naming conventions and which one wins.

- darktable and digiKam name the photo's whole file name plus `.xmp`: `IMG_1234.CR2.xmp`.
- Adobe (Lightroom Classic, Camera Raw, Bridge) and Capture One replace the extension: `IMG_1234.xmp`.
`.xmp` is matched in any letter case (`IMG_1234.XMP`); the rest of the name exactly.

Which wins: a whole-name sidecar always wins, since it names exactly one file. A stem sidecar belongs
to the photos with that stem, except that where a RAW and a JPEG (or TIFF, HEIF, PNG) share the stem
(RAW+JPEG shooting) it belongs to the RAW only: Adobe writes sidecars for RAW files and puts a JPEG's
metadata inside the JPEG, so the JPEG keeps its own embedded XMP (or its own `IMG_1234.JPG.xmp`).
"""

from __future__ import annotations

import os
from typing import Iterable

from fluxcull.media import formats

SIDECAR_EXTENSION = ".xmp"


def is_sidecar(name: str) -> bool:
    return len(name) > len(SIDECAR_EXTENSION) and name[-4:].lower() == SIDECAR_EXTENSION


class SidecarIndex:
    """The sidecars among one folder's file names, and the photo each belongs to."""

    def __init__(self, names: Iterable[str]):
        self._by_base: dict[str, str] = {}   # name without '.xmp' -> the sidecar's name
        self._raw_stems: set[str] = set()
        for name in sorted(names):
            if is_sidecar(name):
                base = name[:-4]
                # `X.xmp` and `X.XMP` side by side (a case-sensitive disk): the lower-case one, always
                if base not in self._by_base or name.endswith(SIDECAR_EXTENSION):
                    self._by_base[base] = name
            elif formats.is_raw(name):
                self._raw_stems.add(os.path.splitext(name)[0])

    def __bool__(self) -> bool:
        return bool(self._by_base)

    def for_photo(self, name: str) -> str | None:
        """The name of the sidecar of the photo called `name` in this folder, None when it has none."""
        exact = self._by_base.get(name)
        if exact is not None:
            return exact
        stem, ext = os.path.splitext(name)
        if not ext:
            return None
        side = self._by_base.get(stem)
        if side is None or (stem in self._raw_stems and not formats.is_raw(name)):
            return None
        return side
