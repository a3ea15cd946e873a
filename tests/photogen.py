"""Generate real JPEG/PNG test photos with EXIF, inside a test's own temporary folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from fluxcull.demo.exifwrite import make_exif  # noqa: F401  (re-exported for tests)


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


def write_jpeg(path: Path, image: Image.Image | None = None, *, seed: int = 0, quality: int = 90, **exif_kw) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = image if image is not None else scene(seed)
    image.save(path, "JPEG", quality=quality, exif=make_exif(**exif_kw))
    return path
