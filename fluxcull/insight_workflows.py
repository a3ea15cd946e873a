"""The calls the GUI's Drafts view and Analytics window make into fluxcull.insights, so that
fluxcull/ui imports no insights module (as fluxcull.workflows does for the pipeline and the keeper model).

- Drafts view: `propose_draft`, `draft_sequences`, `draft_alternatives`, `export_draft`.
- Analytics window and `fluxcull analytics --drift`: `analytics_plots`, `analytics_plot` (PNG bytes),
  `taste_drift`, `taste_drift_view`.
- Motifs window: `stored_motifs`, `compute_motifs`.
- Rediscovery window: `rediscover_sessions`.
Nothing here imports Qt; the heavy packages are imported when a call runs.
"""

from __future__ import annotations

from fluxcull.catalog import Catalog


def analytics_plots() -> list[tuple[str, str]]:
    """(key, title) of every analytics plot (fluxcull.insights.plots.PLOTS), in the order offered."""
    from fluxcull.insights.plots import PLOTS

    return [(k, title) for k, (_, title) in PLOTS.items()]


def analytics_plot(lib, key: str, *, width: float = 8.0, height: float = 4.5, dpi: int = 100) -> bytes:
    """One analytics plot as PNG bytes, read from the library on a connection of its own (any thread)."""
    from fluxcull.insights.plots import plot_png

    conn = lib.connect()
    try:
        return plot_png(conn, key, width=width, height=height, dpi=dpi)
    finally:
        conn.close()


def taste_drift(lib, months: int | None = None) -> dict:
    """Taste drift (fluxcull.insights.drift.drift) of the library, the recent window `months` long
    (None: the setting drift.recent_months)."""
    from fluxcull.embedding.store import current_store
    from fluxcull.insights import drift

    conn = lib.connect()
    try:
        return drift.drift(conn, current_store(lib, conn), months=months)
    finally:
        conn.close()


def taste_drift_view(lib) -> dict:
    """Taste drift as a window shows it: {status, summary, feature_heads, features (rows of cells),
    feature_clear (|z| >= 2 per row), motif_heads, motifs}."""
    from fluxcull.insights import drift

    res = taste_drift(lib)
    return {"status": res["status"], "summary": drift.summary(res), "feature_heads": list(drift.FEATURE_HEADS),
            "features": [drift.feature_cells(r) for r in res["features"]],
            "feature_clear": [r["clear"] for r in res["features"]], "motif_heads": list(drift.MOTIF_HEADS),
            "motifs": [drift.motif_cells(m) for m in res["motifs"]]}


def propose_draft(lib, catalog: Catalog, size: int, min_score: float, exclude_used: bool = False) -> dict:
    """Propose and store a draft of `size` photos scoring at least `min_score`, as `fluxcull draft`
    does (fluxcull.insights.draft.propose); {"draft": None, "reason": ...} where too few qualify."""
    from fluxcull.embedding.store import current_store
    from fluxcull.insights.draft import propose

    conn = catalog.connection
    return propose(conn, current_store(lib, conn), size=size, min_score=min_score, exclude_used=exclude_used)


def draft_sequences(lib, catalog: Catalog, draft_id: int, modes: list[str] | None = None) -> dict:
    """Sequence suggestions for a draft, each with its score and reasons (fluxcull.insights.sequence.suggest)."""
    from fluxcull.embedding.store import current_store
    from fluxcull.insights.sequence import suggest

    conn = catalog.connection
    return suggest(conn, current_store(lib, conn), draft_id, modes)


def draft_alternatives(lib, catalog: Catalog, draft_id: int, photo_id: int, count: int = 6) -> list[dict]:
    """The photos that could take `photo_id`'s place in the draft (fluxcull.insights.alternatives)."""
    from fluxcull.embedding.store import current_store
    from fluxcull.insights.alternatives import alternatives

    conn = catalog.connection
    return alternatives(conn, current_store(lib, conn), draft_id, photo_id, count=count)


def export_draft(lib, catalog: Catalog, draft_id: int, kind: str, path, mode: str = "copy") -> dict:
    """A draft as a contact-sheet PDF, a CSV or its photos in a folder (fluxcull.insights.draft_export)."""
    from fluxcull.insights.draft_export import export

    return export(lib, catalog.connection, draft_id, kind, path, mode)


def stored_motifs(catalog: Catalog) -> list[dict]:
    """The stored motifs (fluxcull.insights.motifs.stored), largest first, each with `photos`: caption
    records (photo_id, path, thumb_key) of its medoids, most typical first."""
    from fluxcull.catalog import insight_reads
    from fluxcull.insights.motifs import stored

    conn = catalog.connection
    out = stored(conn)["motifs"]
    caps = insight_reads.photo_captions(conn, [p for m in out for p in m["medoids"]])
    for m in out:
        m["photos"] = [{"photo_id": p, "path": caps[p][0], "thumb_key": caps[p][6]} for p in m["medoids"] if p in caps]
    return out


def compute_motifs(lib, catalog: Catalog, min_size: int | None = None) -> dict:
    """Cluster the keepers into motifs and store them (`fluxcull motifs`); the summary."""
    from fluxcull.embedding.store import current_store
    from fluxcull.insights.motifs import cluster

    conn = catalog.connection
    res = cluster(conn, current_store(lib, conn), min_size=min_size)
    return {"keepers": res["keepers"], "motifs": len(res["motifs"]), "noise": res["noise"]}


def rediscover_sessions(catalog: Catalog) -> dict:
    """`fluxcull rediscover` at its default score: {min_score, photos, sessions: [{session_id,
    start_at, place, best, count, photos: [{id, path, score, capture_time}]}]}."""
    from fluxcull.insights.rediscover import rediscover

    return rediscover(catalog.connection)
