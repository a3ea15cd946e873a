"""The loupe's histogram and clipping warning, computed from the pixels on the screen (numpy only).

`histogram(rgb)` counts each channel's 256 levels and the luminance's (Rec. 709 weights in integer
arithmetic: (54 R + 183 G + 19 B + 128) >> 8, so white stays 255 and black 0), and how many pixels
are clipped: in the highlights where any channel is at 255 (that channel holds no detail there), in
the shadows where every channel is at 0. `clipping_overlay(rgb)` paints those pixels as Lightroom's
clipping warning does: highlights red, shadows blue. Both work through the image a band of rows at
a time, so a 24-megapixel frame never needs more than a few megabytes beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVELS = 256
HIGH, LOW = 255, 0
HIGHLIGHT_COLOUR = (255, 0, 0)   # red: clipped highlights
SHADOW_COLOUR = (0, 90, 255)     # blue: clipped shadows
ROWS = 256                       # rows handled at once


@dataclass(frozen=True)
class Histogram:
    red: np.ndarray        # (256,) int64 counts per level
    green: np.ndarray
    blue: np.ndarray
    luminance: np.ndarray
    pixels: int
    clipped_highlights: int  # pixels with a channel at 255
    clipped_shadows: int     # pixels with every channel at 0

    def share(self, count: int) -> float:
        return count / self.pixels if self.pixels else 0.0


def _check(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (height, width, 3) uint8 image, got {rgb.dtype} {rgb.shape}")
    return rgb


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Rec. 709 luminance, 0-255 (uint8), of an RGB band."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((54 * r + 183 * g + 19 * b + 128) >> 8).astype(np.uint8)


def clipped(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the clipped highlights (a channel at 255) and shadows (all channels at 0)."""
    return (rgb == HIGH).any(axis=2), (rgb == LOW).all(axis=2)


def histogram(rgb: np.ndarray) -> Histogram:
    rgb = _check(rgb)
    counts = np.zeros((4, LEVELS), np.int64)
    high = low = 0
    for y in range(0, rgb.shape[0], ROWS):
        band = rgb[y:y + ROWS]
        for i in range(3):
            counts[i] += np.bincount(band[..., i].ravel(), minlength=LEVELS)
        counts[3] += np.bincount(luminance(band).ravel(), minlength=LEVELS)
        h, lo = clipped(band)
        high += int(h.sum())
        low += int(lo.sum())
    return Histogram(counts[0], counts[1], counts[2], counts[3], rgb.shape[0] * rgb.shape[1], high, low)


def clipping_overlay(rgb: np.ndarray) -> np.ndarray:
    """A copy of the image with clipped highlights painted red and clipped shadows blue."""
    rgb = _check(rgb)
    out = rgb.copy()
    for y in range(0, rgb.shape[0], ROWS):
        band = out[y:y + ROWS]
        h, lo = clipped(rgb[y:y + ROWS])
        band[h] = HIGHLIGHT_COLOUR
        band[lo] = SHADOW_COLOUR
    return out
