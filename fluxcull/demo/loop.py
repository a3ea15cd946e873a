"""The demo's whole loop as one job: the "build library" workflow on the demo folders, with a few
near-miss decisions between matching and training."""

from __future__ import annotations

import json
from pathlib import Path

from fluxcull.catalog import Catalog
from fluxcull.demo.build import MARKER, build_demo_folders
from fluxcull.jobs import CancelToken, Progress
from fluxcull.library import Library
from fluxcull.workflows import build_library_job


def demo_job(lib: Library, *, cancel: CancelToken | None = None, rebuild: bool = False):
    """Build the demo folders inside the library (once) and run the full loop; returns a summary."""
    root = lib.root / "demo-photos"
    if rebuild and (root / MARKER).exists():
        (root / MARKER).unlink()
    yield Progress("demo", 0, None, "building the demo folders")
    folders = build_demo_folders(root)
    catalog = Catalog.open(lib.catalog_path)
    try:
        chosen = {"originals": str(folders.originals), "keepers": str(folders.keepers), "inbox": str(folders.inbox)}
        for role, path in chosen.items():
            catalog.set_setting(f"{role}_dir", path)
        summary: dict = {"library": str(lib.root), "folders": str(folders.root)}
        summary.update((yield from build_library_job(
            lib, chosen, cancel=cancel,
            before_train=lambda: {"decisions": _demo_decisions(catalog, folders.root)})))
        return summary
    finally:
        catalog.close()


def _demo_decisions(catalog: Catalog, root: Path) -> dict:
    """Reject the shaken frames of the first walks once, as a photographer reviewing them would."""
    if catalog.decisions_made_by("demo"):
        return {"rejected": 0, "note": "already made"}
    manifest = json.loads((root / MARKER).read_text())
    paths = [str(root / e["path"]) for e in manifest["originals"][:32] if e["kind"] == "shaken"]
    ids = catalog.ids_by_paths(paths)
    catalog.decide(ids, "reject", "demo")
    return {"rejected": len(ids)}
