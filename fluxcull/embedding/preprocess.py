"""How a photo becomes the square network input (Pillow + numpy; no torch).

Policies (all give size x size RGB uint8):
- squash: the whole frame resized to size x size, aspect ratio not kept. The default: it keeps
  the whole composition, was the most robust to light crops and re-exports and separated unrelated
  photos best in the measurement of `benchmarks/bench_embed.py` (input-policy table).
- letterbox: the whole frame, long side scaled to `size`, the rest filled with mid-grey (the value
  that normalises to about zero). Keeps the aspect ratio, but a crop that changes it moves the
  borders, which costs similarity between a photo and its cropped copy.
- center: short side scaled to `size`, the centre square cut out (the ImageNet convention); loses
  the edges of the frame.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

POLICIES = ("squash", "letterbox", "center")
DEFAULT_POLICY = "squash"
PAD_VALUE = 128
_RESAMPLE = Image.Resampling.BILINEAR


def _reduce_to(img: Image.Image, target_long: int) -> Image.Image:
    """Cheap integer box reduction first (Pillow's reduce), so the final resample is small."""
    factor = max(img.size) // (target_long * 2)
    if factor >= 2:
        img = img.reduce(factor)
    return img


def to_square(img: Image.Image, size: int = 224, policy: str = DEFAULT_POLICY) -> np.ndarray:
    """The photo as a size x size x 3 uint8 array, following `policy`."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    w, h = img.size
    if policy == "squash":
        img = _reduce_to(img, size)
        return np.asarray(img.resize((size, size), _RESAMPLE, reducing_gap=None))
    if policy == "center":
        s = min(w, h)
        box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
        return np.asarray(img.resize((size, size), _RESAMPLE, box=box, reducing_gap=2.0))
    if policy != "letterbox":
        raise ValueError(f"unknown input policy {policy!r}; choose from {', '.join(POLICIES)}")
    scale = size / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    img = _reduce_to(img, size).resize((nw, nh), _RESAMPLE, reducing_gap=None)
    out = np.full((size, size, 3), PAD_VALUE, np.uint8)
    x0, y0 = (size - nw) // 2, (size - nh) // 2
    out[y0:y0 + nh, x0:x0 + nw] = np.asarray(img)
    return out


def normalize(batch_uint8: np.ndarray, normalization: str) -> np.ndarray:
    """(n, S, S, 3) uint8 -> (n, 3, S, S) float32 as the backbone expects."""
    x = batch_uint8.astype(np.float32)
    if normalization == "tf":
        x = (x - 127.5) * (1.0 / 127.5)
    elif normalization == "imagenet":
        x = (x * (1.0 / 255.0) - np.array([0.485, 0.456, 0.406], np.float32)) / np.array(
            [0.229, 0.224, 0.225], np.float32)
    else:
        raise ValueError(f"unknown normalization {normalization!r}")
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def l2_normalize(y: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero)."""
    return y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
