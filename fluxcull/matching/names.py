"""Normalising the metadata that matching compares: capture times, camera models, camera file names.

- `parse_taken(taken_at)` splits a stored capture time into its whole second and its sub-second
  digits, whatever separators the value uses (`2019-05-25T13:04:00.60+02:00`, `2019:05:25 13:04:00`).
- `camera_stems(name)` finds the camera's own file name inside a keeper's name: `R0001234` in
  `2021-04-03_R0001234_edit.jpg`, `IMG_1234` in `IMG_1234-Edit-2.jpg`, `DSC01234` in `DSC01234 copy.tif`.
- `stem_key(name)` is the look-up key of a file name: its stem, lower-cased, without leading or
  trailing separators (so `_DSC0001.NEF` and `DSC0001.jpg` meet).
"""

from __future__ import annotations

import re

_TAKEN_RE = re.compile(
    r"(?P<date>\d{4})[-:](?P<mon>\d{2})[-:](?P<day>\d{2})[T ](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})"
    r"(?:[.,](?P<sub>\d+))?"
)

# A camera's own file name: a short letter prefix (R, IMG_, DSC, _DSC, DSCF, P, IMGP, PXL_, IMG_E,
# DJI_, GOPR ...) then a frame number of at least three digits, optionally followed by further
# digit groups (IMG_20180725_163423, PXL_20210101_123456789, or a virtual-copy suffix -2).
_CAMERA_STEM_RE = re.compile(r"^[a-z][a-z_]{0,7}[-_]?\d{3,}(?:[-_]\d+)*$", re.IGNORECASE)
_SEP_RE = re.compile(r"([-_ .()\[\]]+)")
_STRIP = "-_ .()[]"


def parse_taken(taken_at: str | None) -> tuple[str, str | None] | None:
    """(whole second as 'YYYY-MM-DDTHH:MM:SS', sub-second digits without trailing zeros or None)."""
    if not taken_at:
        return None
    t = str(taken_at)
    if len(t) >= 19 and t[4] == "-" and t[10] == "T" and t[:4] != "0000":  # the catalog's own ISO form
        key = t[:19]
        sub = None
        if len(t) > 20 and t[19] in ".,":
            end = 20
            while end < len(t) and t[end].isdigit():
                end += 1
            sub = t[20:end].rstrip("0") or "0" if end > 20 else None
        return key, sub
    m = _TAKEN_RE.search(t)
    if not m:
        return None
    key = f"{m['date']}-{m['mon']}-{m['day']}T{m['h']}:{m['m']}:{m['s']}"
    if key.startswith("0000"):
        return None  # cameras with an unset clock write 0000:00:00 00:00:00
    sub = m["sub"]
    if sub is not None:
        sub = sub.rstrip("0") or "0"
    return key, sub


def subsec_compatible(a: str | None, b: str | None) -> bool:
    """Sub-second parts agree (as decimal fractions), or one side has none (exports often drop them)."""
    if a is None or b is None:
        return True
    return a == b  # both without trailing zeros: 0.60 and 0.6 are equal, 0.60 and 0.62 are not


_MODEL_CACHE: dict[str, str | None] = {}


def norm_model(model: str | None) -> str | None:
    if not model:
        return None
    hit = _MODEL_CACHE.get(model)
    if hit is None and model not in _MODEL_CACHE:
        hit = " ".join(str(model).split()).lower() or None
        if len(_MODEL_CACHE) < 10000:
            _MODEL_CACHE[model] = hit
    return hit


def stem_key(name: str | None) -> str | None:
    """The look-up key of a file name or path: its stem, lower case, separators trimmed."""
    if not name:
        return None
    stem = name.rpartition("/")[2] if "\\" not in name else name.replace("\\", "/").rpartition("/")[2]
    dot = stem.rfind(".")
    if dot > 0:
        stem = stem[:dot]
    key = stem.strip(_STRIP).lower()
    return key or None


def is_camera_stem(key: str) -> bool:
    return bool(_CAMERA_STEM_RE.match(key))


def camera_stems(name: str | None) -> list[str]:
    """Camera file names (look-up keys) found inside a file name, longest first.

    Every run of whole tokens of the stem is a candidate; those shaped like a camera's own file
    name are kept. The whole stem is always included, whatever its shape.
    """
    key = stem_key(name)
    if not key:
        return []
    parts = _SEP_RE.split(key)
    tokens = parts[0::2]
    seps = parts[1::2]
    found = {key}
    n = len(tokens)
    for i in range(n):
        if not tokens[i]:
            continue
        acc = tokens[i]
        if is_camera_stem(acc):
            found.add(acc)
        for j in range(i + 1, min(n, i + 6)):
            acc = acc + seps[j - 1] + tokens[j]
            if not tokens[j]:
                break
            if is_camera_stem(acc):
                found.add(acc)
    return sorted(found, key=lambda s: (-len(s), s))
