"""Generate real JPEG/PNG test photos with EXIF, inside a test's own temporary folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

# EXIF tag numbers
_MAKE, _MODEL, _ORIENTATION, _DATETIME = 0x010F, 0x0110, 0x0112, 0x0132
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DTO, _SUBSEC_DTO, _OFFSET_DTO = 0x9003, 0x9291, 0x9011
_FNUMBER, _EXPOSURE, _ISO, _FOCAL, _FOCAL35, _LENS, _SUBJ_DIST = 0x829D, 0x829A, 0x8827, 0x920A, 0xA405, 0xA434, 0x9206


def scene(seed: int, size=(640, 480), blur: float = 0.0, gain: float = 1.0) -> Image.Image:
    """A textured synthetic scene, different for each seed: shapes and noise, not a flat colour."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        fx, fy, ph = rng.uniform(0.005, 0.05, 2).tolist() + [rng.uniform(0, 6.28)]
        img[..., c] = 127 + 90 * np.sin(xx * fx + ph) * np.cos(yy * fy + ph * 0.5)
    for _ in range(12):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(10, min(w, h) / 4)
        mask = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
        img[mask] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 6, img.shape)
    img = np.clip(img * gain, 0, 255).astype(np.uint8)
    out = Image.fromarray(img, "RGB")
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    return out


def make_exif(*, taken: dt.datetime | None = None, subsec: str | None = None, offset: str | None = None,
              make: str = "RICOH IMAGING COMPANY, LTD.", model: str = "RICOH GR III", orientation: int = 1,
              fnumber: float | None = 2.8, exposure: float | None = 1 / 250, iso: int | None = 200,
              focal: float | None = 18.3, focal35: int | None = 28, gps: tuple[float, float] | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[_MAKE] = make
    exif[_MODEL] = model
    exif[_ORIENTATION] = orientation
    ifd = exif.get_ifd(_EXIF_IFD)
    if taken is not None:
        stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
        exif[_DATETIME] = stamp
        ifd[_DTO] = stamp
        if subsec:
            ifd[_SUBSEC_DTO] = subsec
        if offset:
            ifd[_OFFSET_DTO] = offset
    if fnumber:
        ifd[_FNUMBER] = fnumber
    if exposure:
        ifd[_EXPOSURE] = exposure
    if iso:
        ifd[_ISO] = iso
    if focal:
        ifd[_FOCAL] = focal
    if focal35:
        ifd[_FOCAL35] = focal35
    if gps is not None:
        lat, lon = gps
        g = exif.get_ifd(_GPS_IFD)

        def dms(v):
            v = abs(v)
            d = int(v)
            m = int((v - d) * 60)
            s = round(((v - d) * 60 - m) * 60, 4)
            return (float(d), float(m), float(s))

        g[1] = "N" if lat >= 0 else "S"
        g[2] = dms(lat)
        g[3] = "E" if lon >= 0 else "W"
        g[4] = dms(lon)
    return exif


def write_jpeg(path: Path, image: Image.Image | None = None, *, seed: int = 0, quality: int = 90, **exif_kw) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = image if image is not None else scene(seed)
    image.save(path, "JPEG", quality=quality, exif=make_exif(**exif_kw))
    return path
