"""Keeper matching (README, "Linking the keeper archive"): link each photo of the keeper archive to its original.

Methods in order: capture time (DateTimeOriginal, sub-seconds, camera model), the camera's own file
name (`R0001234`), identical bytes (SHA-256), then embedding similarity; doubts go to a review
queue, keepers with no original are listed as unmatched with their best candidates. A link makes its
original a confirmed keeper (keeper_score 1.0). Manual link / unlink decisions are logged and never
overridden. numpy only: nothing here imports torch or Qt.

- `match_job(lib, *, redo_all=False, cancel=None)`: the job (fluxcull.matching.matcher)
- `review_queue(conn)`, `link(conn, keeper, original)`, `unlink(conn, keeper)`,
  `match_summary(conn)` (fluxcull.catalog.keeper_links: the catalog owns the link rows)
"""

from fluxcull.matching.matcher import match_job
from fluxcull.catalog.keeper_links import link, match_summary, review_queue, unlink

__all__ = ["match_job", "review_queue", "link", "unlink", "match_summary"]
