"""What a photo's embedding and technical features are computed from, and computing them (no torch).

Shared by the `embed` job (fluxcull.embedding.embed: threads reading the library's thumbnails) and
the one-pass import (fluxcull.embedding.import_worker: worker processes that have just written the
thumbnail), so that both measure exactly the same pixels: the ingest thumbnail decoded from its
JPEG bytes where it is large enough, else the file decoded at a reduced scale.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from fluxcull.embedding.pixel_features import FEATURE_SIZE, feature_image, measured_features
from fluxcull.embedding.preprocess import to_square

# a thumbnail is used when its long side is at least this (the ingest ones are 512 px)
MIN_THUMB_SIDE = 384
# the shorter side a photo is decoded to when it has no usable thumbnail
FILE_MIN_SIDE = FEATURE_SIZE * 3 // 4


@dataclass
class Prepared:
    photo_id: int
    pixels: np.ndarray | None      # (S, S, 3) uint8 network input, None when only features are needed
    technical: np.ndarray | None   # MEASURED_NAMES values (technical features, orientation signature)
    source: str = ""
    error: str | None = None
    seconds: float = 0.0


def thumbnail_image(source: str | os.PathLike | bytes):
    """The thumbnail (a file, or its JPEG bytes) as an RGB PIL image, or None where it is missing,
    damaged or too small to measure on."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
            if max(im.size) >= MIN_THUMB_SIDE:
                im.load()
                return im if im.mode == "RGB" else im.convert("RGB")
    except (OSError, ValueError, SyntaxError):
        pass
    return None


def prepare(photo_id: int, open_image: Callable[[], tuple], input_size: int, policy: str,
            need_embedding: bool, need_features: bool) -> Prepared:
    """Decode one photo (`open_image()` -> (PIL RGB image, source)) and compute what is needed; a
    decode failure becomes `error`."""
    from fluxcull.media.decode import DecodeError

    t0 = time.perf_counter()
    try:
        img, source = open_image()
        fimg = feature_image(img)
        tech = measured_features(fimg) if need_features else None
        pixels = to_square(fimg, input_size, policy) if need_embedding else None
        return Prepared(photo_id, pixels, tech, source, None, time.perf_counter() - t0)
    except DecodeError as exc:
        return Prepared(photo_id, None, None, "", exc.reason, time.perf_counter() - t0)
    except Exception as exc:  # a photo must never stop the job
        return Prepared(photo_id, None, None, "", f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)
