"""A person's side of matching (link / unlink, the review queue, the summary): the catalog owns
these rows, so the functions live in `fluxcull.catalog.keeper_links`; re-exported here."""

from fluxcull.catalog.keeper_links import link, match_summary, review_queue, unlink
from fluxcull.catalog.score_writes import sync_confirmed_scores as sync_keeper_scores

__all__ = ["link", "unlink", "review_queue", "match_summary", "sync_keeper_scores"]
