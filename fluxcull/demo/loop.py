"""The demo's whole loop as one job: ingest, embed, match, a few near-miss decisions, train, score."""

from __future__ import annotations

import json
from pathlib import Path

from fluxcull.catalog import transaction
from fluxcull.catalog.decisions import decide
from fluxcull.demo.build import MARKER, build_demo_folders
from fluxcull.jobs import CancelToken, Progress
from fluxcull.library import Library


def demo_job(lib: Library, *, cancel: CancelToken | None = None, rebuild: bool = False):
    """Build the demo folders inside the library (once) and run the full loop; returns a summary."""
    from fluxcull.ingest import ingest_job
    from fluxcull.matching import match_job
    from fluxcull.ml.embed import embed_job
    from fluxcull.ml.train import train_job

    root = lib.root / "demo-photos"
    if rebuild and (root / MARKER).exists():
        (root / MARKER).unlink()
    yield Progress("demo", 0, None, "building the demo folders")
    folders = build_demo_folders(root)
    conn = lib.connect()
    try:
        for key, path in (("originals_dir", folders.originals), ("keepers_dir", folders.keepers),
                          ("inbox_dir", folders.inbox)):
            lib.set_setting(conn, key, str(path))
        summary: dict = {"library": str(lib.root), "folders": str(folders.root)}
        for role, path in (("originals", folders.originals), ("keepers", folders.keepers), ("inbox", folders.inbox)):
            summary[f"ingest_{role}"] = yield from ingest_job(lib, [path], role, cancel=cancel)
        # embeddings first: matching falls back to image similarity for stripped, renamed exports
        summary["embed"] = yield from embed_job(lib, cancel=cancel)
        summary["match"] = yield from match_job(lib, cancel=cancel)
        summary["decisions"] = _demo_decisions(conn, folders.root)
        summary["train"] = yield from train_job(lib, cancel=cancel)  # re-scores every photo too
        return summary
    finally:
        conn.close()


def _demo_decisions(conn, root: Path) -> dict:
    """Reject the shaken frames of the first walks once, as a photographer reviewing them would."""
    if conn.execute("SELECT COUNT(*) FROM decision_events WHERE source = 'demo'").fetchone()[0]:
        return {"rejected": 0, "note": "already made"}
    manifest = json.loads((root / MARKER).read_text())
    paths = [str(root / e["path"]) for e in manifest["originals"][:32] if e["kind"] == "shaken"]
    ids = [r[0] for p in paths for r in conn.execute("SELECT id FROM photos WHERE path = ?", (p,))]
    with transaction(conn):
        decide(conn, ids, "reject", "demo")
    return {"rejected": len(ids)}
