"""The one-pass import's process stage: one file in, its catalog record and its embedding input out
(runs in a worker process; no torch).

The ingest worker (fluxcull.ingest.worker) reads and hashes the file, reads its EXIF and XMP,
decodes it once at reduced scale and writes the thumbnail; here the technical features and the
network input are then measured on the thumbnail decoded from the JPEG bytes just written, which
are exactly the pixels `fluxcull embed` reads back from that file later, so the two ways give
bit-identical embeddings and identical features (fluxcull.embedding.prepare). Decoding those bytes
again costs about a millisecond at 512 px; measuring on the pixels before JPEG encoding would save
that and give different numbers. A photo whose thumbnail is too small to measure on (a tiny
image) is decoded from the bytes already in memory, as `embed` decodes its file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fluxcull.embedding.prepare import FILE_MIN_SIDE, prepare, thumbnail_image
from fluxcull.ingest.worker import Task, process_keeping


@dataclass(frozen=True)
class ImportTask:
    task: Task
    input_size: int   # the backbone's square input side
    policy: str       # and how a photo becomes that square (fluxcull.embedding.preprocess)


def process(t: ImportTask) -> dict[str, Any]:
    """The ingest record, with 'prepared' (a Prepared: network input and technical features) where
    the photo was read, or 'prepare_error' (why not) where the features could not be measured."""
    rec, data, thumb = process_keeping(t.task)
    if rec["status"] != "ok" or data is None:
        return rec

    def open_image():
        from fluxcull.media.decode import decode_bytes
        from fluxcull.media.thumbs import thumb_path

        img = thumbnail_image(thumb if thumb is not None else thumb_path(t.task.thumbs_dir, rec["thumb_key"]))
        if img is not None:
            return img, "thumbnail"
        d = decode_bytes(data, t.task.path, min_side=FILE_MIN_SIDE)
        return d.image, d.source

    prep = prepare(0, open_image, t.input_size, t.policy, True, True)
    if prep.error:
        rec["prepare_error"] = prep.error
    else:
        rec["prepared"] = prep
    return rec


def process_many(tasks: list[ImportTask]) -> list[dict[str, Any]]:
    return [process(t) for t in tasks]
