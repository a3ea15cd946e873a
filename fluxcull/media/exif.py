"""Photo metadata from EXIF (through exifread) and the embedded XMP packet.

`read_metadata(data, path)` returns a dict whose keys are photos-table columns, plus `warning`
(a damaged EXIF block: the photo is still usable, but its capture time etc. are unknown).

Time: taken_at is ISO text of DateTimeOriginal (+ SubSecTimeOriginal, + OffsetTimeOriginal when
present); capture_time is the epoch seconds of that local wall-clock time read as if it were UTC
(so sorting and session gaps follow the photographer's clock, not the time zone).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import os
import re
from fractions import Fraction
from typing import Any

INFINITE_DISTANCE_M = 10_000.0  # EXIF "infinity" subject distance is stored as 10 km

_DATE_RE = re.compile(r"^\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?")
_OFFSET_RE = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")
_XMP_NAME_RES = [
    re.compile(rb'xmpMM:PreservedFileName\s*=\s*"([^"<>]{1,255})"'),
    re.compile(rb"<xmpMM:PreservedFileName>([^<>]{1,255})</xmpMM:PreservedFileName>"),
    re.compile(rb'crs:RawFileName\s*=\s*"([^"<>]{1,255})"'),
    re.compile(rb"<crs:RawFileName>([^<>]{1,255})</crs:RawFileName>"),
]
_XMP_SCAN_BYTES = 8 * 1024 * 1024

logging.getLogger("exifread").setLevel(logging.ERROR)  # it logs every odd tag as a warning


def read_metadata(data: bytes, path: str | os.PathLike) -> dict[str, Any]:
    """Every metadata column fluxcull stores, read from the file's bytes. Never raises."""
    meta: dict[str, Any] = {
        "taken_at": None, "taken_offset": None, "capture_time": None, "camera_make": None,
        "camera_model": None, "lens": None, "focal_length": None, "focal_length_35mm": None,
        "aperture": None, "shutter": None, "iso": None, "subject_distance": None, "gps_lat": None,
        "gps_lon": None, "gps_alt": None, "orientation": None, "original_filename": None, "warning": None,
    }
    tags = {}
    exifread_failed = False
    try:
        import exifread

        tags = exifread.process_file(io.BytesIO(data), details=False, extract_thumbnail=False)
    except Exception:  # exifread trips on damaged blocks (and on some valid HEIC layouts)
        exifread_failed = True
        tags = {}
    try:
        _fill_from_tags(meta, tags)
    except Exception as exc:  # a tag with an absurd type must not lose the rest
        meta["warning"] = meta["warning"] or f"some EXIF fields unreadable ({type(exc).__name__}: {exc})"
    has_block = _has_exif_block(data)
    if not _useful(meta) and (exifread_failed or has_block):
        # exifread found nothing usable in a block that is there: ask Pillow's parser before
        # declaring the block damaged.
        if _fill_from_pillow(meta, data):
            meta["warning"] = None
        elif has_block:
            meta["warning"] = ("damaged EXIF block (unreadable): capture time, camera and GPS unknown; "
                               "the file's modification time stands in for the capture time")
    meta["original_filename"] = embedded_original_name(data, tags) or os.path.basename(os.fspath(path))
    return meta


def _useful(meta: dict) -> bool:
    return any(meta[k] is not None for k in ("capture_time", "camera_make", "camera_model", "orientation",
                                               "focal_length", "aperture", "shutter", "iso", "gps_lat"))


def _has_exif_block(data: bytes) -> bool:
    """A JPEG with an APP1 Exif segment among its first markers, or a TIFF-structured file."""
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return True
    if data[:2] != b"\xff\xd8":
        return False
    i = 2
    for _ in range(16):
        if i + 4 > len(data) or data[i] != 0xFF:
            return False
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if marker == 0xE1 and data[i + 4:i + 10] == b"Exif\x00\x00":
            return True
        if marker in (0xDA, 0xD9):
            return False
        i += 2 + length
    return False


def _fill_from_pillow(meta: dict, data: bytes) -> bool:
    """Basic fields through Pillow's EXIF parser; False when it finds nothing either."""
    import warnings

    from PIL import Image

    def clean(v):
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        return (v.replace("\x00", "").strip() or None) if isinstance(v, str) else None

    import fluxcull.media.decode  # noqa: F401  (registers the HEIF opener where pillow-heif is installed)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exif = Image.open(io.BytesIO(data)).getexif()
            ifd = exif.get_ifd(0x8769)
    except Exception:
        return False
    if not exif:
        return False
    for key, tag in (("aperture", 0x829D), ("shutter", 0x829A), ("focal_length", 0x920A),
                     ("focal_length_35mm", 0xA405)):
        meta[key] = meta[key] if meta[key] is not None else _positive(_first_number(ifd.get(tag)))
    iso = _first_number(ifd.get(0x8827))
    meta["iso"] = meta["iso"] or (int(iso) if iso and iso > 0 else None)
    meta["lens"] = meta["lens"] or clean(ifd.get(0xA434))

    meta["camera_make"] = meta["camera_make"] or clean(exif.get(0x010F))
    meta["camera_model"] = meta["camera_model"] or clean(exif.get(0x0110))
    o = exif.get(0x0112)
    if isinstance(o, int) and 1 <= o <= 8:
        meta["orientation"] = o
    if meta["capture_time"] is None:
        meta.update(parse_taken(clean(ifd.get(0x9003)), clean(ifd.get(0x9291)), clean(ifd.get(0x9011))))
    return True


def _fill_from_tags(meta: dict, tags: dict) -> None:
    def text(*names):
        for n in names:
            t = tags.get(n)
            if t is None:
                continue
            v = t.values if hasattr(t, "values") else t
            if isinstance(v, bytes):
                v = v.decode("utf-8", "replace")
            if isinstance(v, str):
                v = v.replace("\x00", "").strip()
                if v:
                    return v
        return None

    def number(*names):
        for n in names:
            t = tags.get(n)
            if t is None:
                continue
            v = _first_number(t.values if hasattr(t, "values") else t)
            if v is not None:
                return v
        return None

    meta["camera_make"] = text("Image Make")
    meta["camera_model"] = text("Image Model")
    lens = text("EXIF LensModel", "Image LensModel")
    make = text("EXIF LensMake")
    if lens and make and not lens.lower().startswith(make.lower()):
        lens = f"{make} {lens}"
    meta["lens"] = lens
    meta["focal_length"] = _positive(number("EXIF FocalLength"))
    meta["focal_length_35mm"] = _positive(number("EXIF FocalLengthIn35mmFilm"))
    meta["aperture"] = _positive(number("EXIF FNumber"))
    if meta["aperture"] is None:
        av = number("EXIF ApertureValue")
        meta["aperture"] = round(2 ** (av / 2), 2) if av is not None and 0 <= av < 20 else None
    meta["shutter"] = _positive(number("EXIF ExposureTime"))
    iso = number("EXIF ISOSpeedRatings", "EXIF PhotographicSensitivity", "EXIF RecommendedExposureIndex")
    meta["iso"] = int(iso) if iso and iso > 0 else None
    dist = number("EXIF SubjectDistance")
    if dist is not None and dist > 0:
        meta["subject_distance"] = INFINITE_DISTANCE_M if (math.isinf(dist) or dist >= 4e9) else float(dist)
    o = number("Image Orientation")
    meta["orientation"] = int(o) if o is not None and 1 <= o <= 8 else None

    taken = text("EXIF DateTimeOriginal", "Image DateTimeOriginal", "EXIF DateTimeDigitized")
    subsec = text("EXIF SubSecTimeOriginal", "EXIF SubSecTimeDigitized")
    offset = text("EXIF OffsetTimeOriginal", "EXIF OffsetTime")
    meta.update(parse_taken(taken, subsec, offset))

    lat = _gps_coord(tags.get("GPS GPSLatitude"), text("GPS GPSLatitudeRef"), 90)
    lon = _gps_coord(tags.get("GPS GPSLongitude"), text("GPS GPSLongitudeRef"), 180)
    if lat is not None and lon is not None and not (lat == 0 and lon == 0):
        meta["gps_lat"], meta["gps_lon"] = lat, lon
        alt = number("GPS GPSAltitude")
        if alt is not None and abs(alt) < 100_000:
            ref = tags.get("GPS GPSAltitudeRef")
            below = ref is not None and _first_number(ref.values) == 1
            meta["gps_alt"] = -alt if below else alt


def parse_taken(taken: str | None, subsec: str | None = None, offset: str | None = None) -> dict:
    """taken_at (ISO text), taken_offset and capture_time from EXIF's date, sub-second and offset."""
    out = {"taken_at": None, "taken_offset": None, "capture_time": None}
    if not taken:
        return out
    m = _DATE_RE.match(taken)
    if not m:
        return out
    y, mo, d, h, mi = (int(m.group(i)) for i in range(1, 6))
    s = int(m.group(6) or 0)
    try:
        when = dt.datetime(y, mo, d, h, mi, min(s, 59))
    except ValueError:  # 0000:00:00 00:00:00 and friends
        return out
    if y < 1826:  # before photography existed: a camera with an unset clock
        return out
    iso = when.strftime("%Y-%m-%dT%H:%M:%S")
    frac = 0.0
    digits = re.sub(r"\D", "", subsec or "")[:6]
    if digits:
        frac = int(digits) / (10 ** len(digits))
        iso += "." + digits
    om = _OFFSET_RE.match(offset or "")
    if om and int(om.group(2)) <= 14 and int(om.group(3)) < 60:
        out["taken_offset"] = f"{om.group(1)}{om.group(2)}:{om.group(3)}"
        iso += out["taken_offset"]
    out["taken_at"] = iso
    out["capture_time"] = when.replace(tzinfo=dt.timezone.utc).timestamp() + frac
    return out


def _first_number(values) -> float | None:
    while isinstance(values, (list, tuple)):  # exifread nests doubles as [(x,)]
        if not values:
            return None
        values = values[0]
    try:
        if isinstance(values, Fraction) or hasattr(values, "numerator"):
            if getattr(values, "denominator", 1) == 0:
                return None
        v = float(values)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return v if math.isfinite(v) else None


def _positive(v: float | None) -> float | None:
    return float(v) if v is not None and v > 0 else None


def _gps_coord(tag, ref: str | None, limit: float) -> float | None:
    if tag is None:
        return None
    vals = list(tag.values) if hasattr(tag, "values") else []
    nums = []
    for v in vals[:3]:
        f = _first_number(v)
        if f is None:
            return None
        nums.append(f)
    if not nums:
        return None
    while len(nums) < 3:
        nums.append(0.0)
    value = nums[0] + nums[1] / 60 + nums[2] / 3600
    if ref and ref.strip().upper()[:1] in ("S", "W"):
        value = -value
    if not math.isfinite(value) or abs(value) > limit:
        return None
    return round(value, 7)


def embedded_original_name(data: bytes, tags: dict | None = None) -> str | None:
    """The camera file name recorded inside the file: XMP xmpMM:PreservedFileName or
    crs:RawFileName, else DNG OriginalRawFileName."""
    head = data[:_XMP_SCAN_BYTES]
    if head.find(b"PreservedFileName") >= 0 or head.find(b"RawFileName") >= 0:
        for rx in _XMP_NAME_RES:
            m = rx.search(head)
            if m:
                name = m.group(1).decode("utf-8", "replace").strip()
                name = os.path.basename(name.replace("\\", "/"))
                if name:
                    return name
    if tags:
        t = tags.get("Image Tag 0xC68B") or tags.get("Image OriginalRawFileName")
        if t is not None:
            v = t.values if hasattr(t, "values") else t
            if isinstance(v, bytes):
                v = v.decode("utf-8", "replace")
            if isinstance(v, str) and v.strip("\x00 "):
                return os.path.basename(v.strip("\x00 "))
    return None
