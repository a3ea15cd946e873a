"""Getting a photographer's folders into the catalog: scan, process (hash, EXIF, thumbnail),
write, group into sessions.

Staged like a beets import pipeline: `scan` (main process) -> `triage` against the catalog (main)
-> `process` (a pool of worker processes, or serial in-process) -> `write` (main process, in
batched transactions) -> `sessions`. The entry point is `ingest_job`. Nothing here writes into the
ingested folders. No Qt, no torch.
"""

from fluxcull.ingest.job import ingest_job

__all__ = ["ingest_job"]
