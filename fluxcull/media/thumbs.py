"""Thumbnails: JPEG, long side THUMB_SIZE px, in the library keyed by the photo's SHA-256.

A changed file has a new SHA-256 and so a new thumbnail; identical files share one. Files are
written atomically (a temporary file in the same folder, then os.replace), so a reader never
sees half a thumbnail and a killed ingest leaves none behind under the final name. A thumbnail made
at ingest says in its JPEG comment what it was decoded from (`thumbnail_source`).
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image  # the window only reads thumbnail paths here: PIL loads with the first thumbnail made

THUMB_SIZE = 512
THUMB_QUALITY = 85
SOURCE_TAG = "fluxcull-source="  # a thumbnail's JPEG comment: what it was decoded from


def thumb_key(sha256: str, size: int = THUMB_SIZE) -> str:
    return f"{sha256}-{size}"


def _thumbs_dir(lib_or_dir) -> Path:
    return Path(getattr(lib_or_dir, "thumbs_dir", lib_or_dir))


def thumb_path(lib_or_dir, key: str) -> Path:
    """Where the thumbnail with this key lives (lib is a Library or a thumbs folder)."""
    return _thumbs_dir(lib_or_dir) / key[:2] / f"{key}.jpg"


def make_thumbnail(image: Image.Image, size: int = THUMB_SIZE) -> Image.Image:
    """A copy of `image` whose long side is at most `size` (RGB)."""
    img = image if image.mode == "RGB" else image.convert("RGB")
    w, h = img.size
    scale = size / max(w, h)
    if scale >= 1.0:
        return img.copy()
    from PIL import Image

    target = (max(1, round(w * scale)), max(1, round(h * scale)))
    return img.resize(target, Image.Resampling.BICUBIC, reducing_gap=2.0)


def encode_jpeg(image: Image.Image, quality: int = THUMB_QUALITY, comment: str | None = None) -> bytes:
    """The JPEG file `image` is saved as (the bytes a thumbnail file holds), with `comment` in a COM
    segment where given."""
    buf = io.BytesIO()
    extra = {"comment": comment.encode("utf-8")} if comment else {}
    image.save(buf, "JPEG", quality=quality, optimize=False, **extra)
    return buf.getvalue()


def write_atomic_jpeg(image: Image.Image, dest: Path, quality: int = THUMB_QUALITY, comment: str | None = None) -> bytes:
    """Save `image` as the JPEG `dest`, atomically; returns the file's bytes."""
    data = encode_jpeg(image, quality, comment)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jpg", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
        return data
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_thumbnail(lib_or_dir, key: str, image: Image.Image, size: int = THUMB_SIZE) -> Path:
    dest = thumb_path(lib_or_dir, key)
    write_atomic_jpeg(make_thumbnail(image, size), dest)
    return dest


def save_thumbnail_bytes(lib_or_dir, key: str, image: Image.Image, size: int = THUMB_SIZE,
                         source: str | None = None) -> bytes:
    """Like `save_thumbnail`, returning the bytes written (decoding them gives exactly the pixels a
    later reader of the file gets, without reading it back). `source`: what the image was decoded
    from (fluxcull.media.decode's sources), kept in the file for `thumbnail_source`."""
    return write_atomic_jpeg(make_thumbnail(image, size), thumb_path(lib_or_dir, key),
                             comment=f"{SOURCE_TAG}{source}" if source else None)


def thumbnail_source(lib_or_dir, key: str) -> str | None:
    """What a stored thumbnail was decoded from, as its file says (None: a file that does not say,
    written before it did, or unreadable). A file ingested again reuses its thumbnail, and its record
    then names the same source as the first ingest did: a resumed import ends as an uninterrupted one."""
    from PIL import Image

    try:
        with Image.open(thumb_path(lib_or_dir, key)) as im:  # the header only: no pixels decoded
            comment = im.info.get("comment") or b""
    except (OSError, ValueError):
        return None
    text = comment.decode("utf-8", "replace") if isinstance(comment, bytes) else str(comment)
    if not text.startswith(SOURCE_TAG):
        return None
    return text[len(SOURCE_TAG):] or None


def has_thumbnail(lib_or_dir, key: str | None) -> bool:
    return bool(key) and thumb_path(lib_or_dir, key).is_file()
