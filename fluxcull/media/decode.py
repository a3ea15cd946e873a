"""Pixels from the fastest adequate source, with EXIF orientation applied.

Sources, fastest first:
  raw-preview   the JPEG (or bitmap) a camera embeds in its RAW file, through rawpy.extract_thumb
  jpeg-draft    Pillow's DCT-domain scaling (1/2, 1/4, 1/8) while decoding a JPEG, via Image.draft
  decode        a full decode (PNG, TIFF, HEIF, JPEG when a large size is wanted)
  raw-decode    LibRaw demosaicing (half size where that is enough) when the preview is missing or small
  embedded-jpeg a JPEG found inside a file LibRaw cannot open (last resort for damaged RAWs)

`load_image(path, min_side=...)` is the entry point for other areas; ingest calls `decode_bytes`
on the bytes it already read for hashing.
"""

from __future__ import annotations

import io
import math
import os
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageFile, UnidentifiedImageError

from fluxcull.errors import UserError
from fluxcull.media import formats

# Decompression-bomb guard: Pillow raises DecompressionBombError above 2 * MAX_IMAGE_PIXELS.
MAX_PIXELS = 250_000_000  # larger than any camera (150 MP medium format) and most stitched panoramas
Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2
ImageFile.LOAD_TRUNCATED_IMAGES = False
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

if formats.heif_available():  # pragma: no branch
    import pillow_heif

    pillow_heif.register_heif_opener()

# LibRaw's flip code -> PIL transpose for an embedded preview that has no orientation of its own.
_FLIP_TRANSPOSE = {3: Image.Transpose.ROTATE_180, 5: Image.Transpose.ROTATE_90, 6: Image.Transpose.ROTATE_270}
_FLIP_TO_EXIF = {0: 1, 3: 3, 5: 8, 6: 6}


class DecodeError(UserError):
    """A photo that could not be decoded; `reason` says why in words a person can act on."""

    def __init__(self, path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass
class Decoded:
    image: Image.Image          # RGB, orientation applied, possibly reduced
    source: str                 # one of the sources listed in the module docstring
    width: int | None           # full-resolution size as displayed (after orientation)
    height: int | None
    orientation: int | None     # EXIF orientation (1-8) that was applied


def load_image(path: str | os.PathLike, *, min_side: int | None = None) -> tuple[Image.Image, str]:
    """The photo as an RGB image with EXIF orientation applied, and the source it came from.

    With min_side, the fastest source whose shorter side is at least min_side pixels (or the
    full image when it is smaller than that); without, the full-resolution image.
    Raises DecodeError naming the reason.
    """
    data = read_bytes(path)
    d = decode_bytes(data, path, min_side=min_side)
    return d.image, d.source


# No photo file is read into memory past this (the ingest's per-format caps are lower).
MAX_FILE_BYTES = 2000 << 20


def read_bytes(path: str | os.PathLike, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise DecodeError(path, os_error_reason(exc)) from exc
    if len(data) > max_bytes:
        raise DecodeError(path, f"file is over {max_bytes >> 20} MB: not read into memory (damaged or not a photo?)")
    return data


def os_error_reason(exc: OSError) -> str:
    import errno

    if isinstance(exc, PermissionError):
        return "permission denied: fluxcull cannot read this file (check its owner and permissions)"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop: the link points back at itself"
    if isinstance(exc, FileNotFoundError):
        return "file not found (a broken symbolic link, or the file was removed during the ingest)"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a photo"
    return f"cannot read the file: {exc.strerror or exc}"


def decode_bytes(data: bytes, path: str | os.PathLike, *, min_side: int | None = None,
                 long_side: int | None = None) -> Decoded:
    """Decode `data` (the whole file) as the photo at `path` (used for its extension and errors).

    The result is at least min_side pixels on its shorter side and long_side on its longer side
    (where the photo is that large); either may be None.
    """
    if not data:
        raise DecodeError(path, "empty file (0 bytes): nothing to decode, probably an interrupted copy")
    want = _Want(min_side, long_side)
    if formats.is_raw(path):
        return _decode_raw(data, path, want)
    return _decode_pillow(data, path, want)


@dataclass(frozen=True)
class _Want:
    min_side: int | None
    long_side: int | None

    def __bool__(self) -> bool:
        return bool(self.min_side or self.long_side)

    def scale(self, w: int, h: int) -> float:
        """The smallest scale of a w x h image that satisfies the request (1.0 = full size)."""
        s = 0.0
        if self.min_side:
            s = max(s, self.min_side / min(w, h))
        if self.long_side:
            s = max(s, self.long_side / max(w, h))
        return min(s, 1.0) if self else 1.0

    def satisfied_by(self, w: int, h: int, full_w: int | None, full_h: int | None) -> bool:
        if not self:
            return False
        if full_w and full_h and min(w, h) >= min(full_w, full_h):
            return True
        return (not self.min_side or min(w, h) >= self.min_side) and (not self.long_side or max(w, h) >= self.long_side)


# ---------------------------------------------------------------- Pillow formats

def _open_pillow(data: bytes, path) -> Image.Image:
    try:
        with warnings.catch_warnings():  # Pillow warns about damaged EXIF while sniffing for MPO
            warnings.simplefilter("ignore")
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise DecodeError(path, _bomb_reason(exc)) from exc
    except UnidentifiedImageError as exc:
        raise DecodeError(path, _not_an_image_reason(data, path)) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise DecodeError(path, _load_failure_reason(exc, formats.format_name(path).upper())) from exc
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise DecodeError(path, _bomb_reason(None, w, h))
    if w <= 0 or h <= 0:
        raise DecodeError(path, f"image header claims an empty size {w}x{h}")
    return img


def _decode_pillow(data: bytes, path, want: _Want) -> Decoded:
    img = _open_pillow(data, path)
    full_w, full_h = img.size
    source = "decode"
    if img.format == "JPEG" and want:
        scale = want.scale(full_w, full_h)
        if scale <= 0.5:
            img.draft("RGB", (math.ceil(full_w * scale), math.ceil(full_h * scale)))
            if img.size != (full_w, full_h):
                source = "jpeg-draft"
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise DecodeError(path, _bomb_reason(exc)) from exc
    except (OSError, SyntaxError, ValueError, IndexError, struct.error) as exc:
        raise DecodeError(path, _load_failure_reason(exc, img.format)) from exc
    orientation = _orientation_of(img)
    img = _to_rgb(img)
    img = _apply_orientation(img, orientation)
    if orientation in (5, 6, 7, 8):
        full_w, full_h = full_h, full_w
    return Decoded(img, source, full_w, full_h, orientation)


def _orientation_of(img: Image.Image) -> int | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = img.getexif().get(0x0112)
    except Exception:  # a scrambled EXIF block must not stop the pixels
        return None
    try:
        value = int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return value if value in range(1, 9) else None


_ORIENT_OPS = {
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_270],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_90],
}


def _apply_orientation(img: Image.Image, orientation: int | None) -> Image.Image:
    for op in _ORIENT_OPS.get(orientation or 1, []):
        img = img.transpose(op)
    return img


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGB", rgba.size, (255, 255, 255))
        bg.paste(rgba, mask=rgba.getchannel("A"))
        return bg
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        import numpy as np

        arr = np.asarray(img, dtype=np.float32)
        top = float(arr.max()) or 1.0
        return Image.fromarray((arr * (255.0 / top)).clip(0, 255).astype("uint8"), "L").convert("RGB")
    return img.convert("RGB")


def _bomb_reason(exc, w=None, h=None) -> str:
    if w is None and exc is not None:
        import re

        m = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(m.group(1)) if m else None
    else:
        pixels = w * h
    size = f"{w}x{h} = " if w else ""
    mp = f"{size}{pixels / 1e6:.0f} MP" if pixels else "more pixels"
    return (f"image claims {mp}, over the {MAX_PIXELS // 1_000_000} MP safety limit: refusing to decode "
            "(a decompression bomb or a damaged header)")


def _not_an_image_reason(data: bytes, path) -> str:
    ext = formats.extension(path) or "(none)"
    head = data[:512]
    if head.lstrip()[:1] in (b"<", b"{") or all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        what = "text"
    else:
        what = "unrecognised binary data"
    return f"not an image: the file holds {what}, not a {ext} photo (renamed or wrongly saved file?)"


def _load_failure_reason(exc: Exception, fmt: str | None) -> str:
    msg = str(exc)
    if "truncated" in msg.lower() or "premature end" in msg.lower() or "broken data stream" in msg:
        return (f"truncated {fmt or 'image'}: the file ends before the image data is complete "
                "(interrupted copy or damaged card); re-copy it from the source")
    return f"damaged {fmt or 'image'} data ({msg}): the file cannot be decoded"


# ---------------------------------------------------------------- RAW

def _decode_raw(data: bytes, path, want: _Want) -> Decoded:
    import rawpy

    try:
        raw = rawpy.imread(io.BytesIO(data))
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        # LibRaw cannot open it: a damaged RAW may still carry a usable JPEG preview.
        found = _embedded_jpeg(data, path)
        if found is not None:
            return found
        raise DecodeError(path, f"LibRaw cannot open this RAW file ({_libraw_msg(exc)}) and it holds no "
                                "usable embedded preview: unsupported camera or damaged file") from exc
    with raw:
        try:
            sizes = raw.sizes
            flip = int(sizes.flip)
            full_w, full_h = int(sizes.width), int(sizes.height)
        except Exception:
            flip, full_w, full_h = 0, None, None
        if flip in (5, 6) and full_w:
            full_w, full_h = full_h, full_w
        exif_orientation = _FLIP_TO_EXIF.get(flip, 1)
        preview, preview_error = None, None
        try:
            preview = _raw_preview(raw, flip)
        except Exception as exc:  # no thumbnail, unsupported thumbnail, damaged thumbnail
            preview_error = exc
        if preview is not None and (not want or want.satisfied_by(*preview.size, full_w, full_h)):
            return Decoded(preview, "raw-preview", full_w or preview.width, full_h or preview.height, exif_orientation)
        try:
            half = bool(want and full_w and want.scale(full_w, full_h) <= 0.5)
            rgb = raw.postprocess(use_camera_wb=True, half_size=half, output_bps=8, no_auto_bright=False)
            img = Image.fromarray(rgb, "RGB")
            if not full_w:
                full_w, full_h = (img.width * 2, img.height * 2) if half else img.size
            return Decoded(img, "raw-decode", full_w, full_h, exif_orientation)
        except Exception as exc:
            if preview is not None:  # small, but better than nothing
                return Decoded(preview, "raw-preview", full_w or preview.width, full_h or preview.height,
                               exif_orientation)
            found = _embedded_jpeg(data, path)
            if found is not None:
                return found
            why = _libraw_msg(exc)
            if preview_error is not None:
                why += f"; no embedded preview ({_libraw_msg(preview_error)})"
            raise DecodeError(path, f"LibRaw cannot decode this RAW file ({why}): unsupported or damaged") from exc


def _libraw_msg(exc: Exception) -> str:
    name = type(exc).__name__
    text = str(exc).strip()
    return f"{name}: {text}" if text and text != name else name


def _raw_preview(raw, flip: int) -> Image.Image:
    import rawpy

    thumb = raw.extract_thumb()
    if thumb.format == rawpy.ThumbFormat.JPEG:
        img = Image.open(io.BytesIO(thumb.data))
        img.load()
        own = _orientation_of(img)
        img = _to_rgb(img)
        if own and own != 1:
            return _apply_orientation(img, own)
    elif thumb.format == rawpy.ThumbFormat.BITMAP:
        img = Image.fromarray(thumb.data).convert("RGB")
    else:
        raise ValueError(f"unsupported preview format {thumb.format}")
    if flip in _FLIP_TRANSPOSE:
        img = img.transpose(_FLIP_TRANSPOSE[flip])
    return img


def _embedded_jpeg(data: bytes, path) -> Decoded | None:
    """The largest decodable JPEG embedded anywhere in `data` (for RAWs LibRaw cannot open)."""
    best, start, tries = None, 1, 0
    while tries < 24:
        i = data.find(b"\xff\xd8\xff", start)
        if i < 0:
            break
        start, tries = i + 3, tries + 1
        try:
            img = Image.open(io.BytesIO(data[i:]))
            if img.format != "JPEG" or img.width * img.height > MAX_PIXELS or min(img.size) < 16:
                continue
            if best is None or img.width * img.height > best.width * best.height:
                img.load()
                best = img
        except Exception:
            continue
    if best is None:
        return None
    orientation = _orientation_of(best)
    img = _apply_orientation(_to_rgb(best), orientation)
    return Decoded(img, "embedded-jpeg", img.width, img.height, orientation)


def probe(data: bytes, path) -> tuple[int | None, int | None, int | None]:
    """(width, height, orientation) as displayed, from the headers only (no pixel decoding)."""
    if formats.is_raw(path):
        import rawpy

        try:
            with rawpy.imread(io.BytesIO(data)) as raw:
                s = raw.sizes
                w, h, flip = int(s.width), int(s.height), int(s.flip)
        except Exception:
            return None, None, None
        return (h, w, _FLIP_TO_EXIF.get(flip)) if flip in (5, 6) else (w, h, _FLIP_TO_EXIF.get(flip, 1))
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size
    except Exception:
        return None, None, None
    o = _orientation_of(img)
    return (h, w, o) if o in (5, 6, 7, 8) else (w, h, o)
