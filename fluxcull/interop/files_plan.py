"""Where `fluxcull export files` puts each photo under DEST: the layout's folder, the name, collisions.

Layouts (folder names are made by fluxcull from digits only, so nothing lands outside DEST):
  flat     DEST/NAME
  date     DEST/YYYY/YYYY-MM-DD/NAME by capture date (the camera's clock); DEST/undated/NAME without one
  session  DEST/YYYY-MM-DD_session-ID/NAME by the photo's session (its first day); DEST/no-session/NAME

Collisions: photos that would take the same name in one folder (letter case ignored, as a
case-insensitive disk would) keep it for the lowest photo id; every other one is named
`STEM_fc<ID>.EXT` (R0001234.JPG of photo 57 -> R0001234_fc57.JPG). The same suffix is the fallback
when the name is held at DEST by a different file: an export never overwrites one. Names depend only
on the photos, so a second run finds the first run's files where it put them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

LAYOUTS = ("flat", "date", "session")
MODES = ("copy", "hardlink", "symlink", "list")
DECISIONS = ("keep", "reject", "none", "any")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


@dataclass
class Placement:
    photo: dict
    rel: str        # the path under DEST ('/'-separated)
    alt: str        # the id-suffixed fallback
    renamed: bool   # `rel` already carries the suffix (a collision within this export)


def suffixed(name: str, photo_id: int) -> str:
    stem, ext = os.path.splitext(name)
    return f"{stem}_fc{int(photo_id)}{ext}"


def layout_folder(photo: dict, layout: str) -> str:
    if layout == "flat":
        return ""
    if layout == "date":
        m = _DATE.match(photo.get("taken_at") or "")
        return f"{m.group(1)}/{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else "undated"
    if layout == "session":
        sid = photo.get("session_id")
        if sid is None:
            return "no-session"
        m = _DATE.match(photo.get("session_start_at") or "")
        day = f"{m.group(1)}-{m.group(2)}-{m.group(3)}_" if m else ""
        return f"{day}session-{int(sid)}"
    raise ValueError(f"unknown layout {layout!r}: expected one of {', '.join(LAYOUTS)}")


def plan(photos: list[dict], layout: str) -> list[Placement]:
    """A placement per photo, in the photos' order (see the module docstring for names)."""
    claimed: dict[str, int] = {}
    for p in sorted(photos, key=lambda p: p["id"]):
        key = _join(layout_folder(p, layout), os.path.basename(p["path"])).casefold()
        claimed.setdefault(key, p["id"])
    out = []
    for p in photos:
        folder, name = layout_folder(p, layout), os.path.basename(p["path"])
        alt = _join(folder, suffixed(name, p["id"]))
        first = claimed[_join(folder, name).casefold()] == p["id"]
        out.append(Placement(p, _join(folder, name) if first else alt, alt, not first))
    return out


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name
