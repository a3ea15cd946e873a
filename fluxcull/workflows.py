"""The pipeline's workflows, composed once for the command line, the demo and the GUI alike.

Each workflow is a job (a generator of `Progress` returning its summary, fluxcull.jobs) over a
library: the CLI drives it with a progress bar, the GUI on its job thread (fluxcull.ui.worker).

- `build_library_job`: import the chosen folders (ingest and embed in one pass), stack bursts, match
  keepers, train (which re-scores).
- `inbox_arrived_job`: import the inbox (ingest and embed in one pass), stack and score what arrived.
- `import_photos_job`: `fluxcull import`: one folder's one-pass import, then places and stacks.
- `stacks_job`: the stored stacks (bursts) brought up to date after embedding, or rebuilt.
- `inbox_moved_job`: the INBOX folder changed: photos found again by their bytes are re-pointed.
- `retrain_job`, `rescore_job`: the keeper model again on every decision so far / re-score only.
- `place_sessions`: sessions' places from their GPS centroids (offline), at the end of an ingest.
- `export_xmp_job`: keeps, rejects and keeper scores written into XMP sidecars (fluxcull.interop),
  with `xmp_mirror_folder`, where they go unless written beside the photos.

Also the few keeper-model calls the GUI makes (`informative_pair`, `session_bursts`, `burst_members`,
`model_report`, `model_quality`, `explain_photo`, `explanation_view`, `backbone_names`), so that
fluxcull/ui imports no keeper-model module (the insights' calls: fluxcull.insight_workflows).
Nothing here imports Qt; the heavy packages are imported when a workflow runs.
"""

from __future__ import annotations

from typing import Callable

from fluxcull.catalog import Catalog
from fluxcull.jobs import CancelToken, Cancelled, Job

ROLE_ORDER = ("originals", "keepers", "inbox")


def worker_threads(lib) -> int | None:
    """The library's `worker_threads` setting (None: automatic)."""
    catalog = Catalog.open(lib.catalog_path)
    try:
        value = catalog.setting("worker_threads")
    except ValueError:
        value = 0
    finally:
        catalog.close()
    return value or None


def build_library_job(lib, folders: dict[str, str], *, cancel: CancelToken | None = None,
                      workers: int | None = None, before_train: Callable[[], dict] | None = None) -> Job:
    """Import each chosen folder (role -> path) in role order, ingesting and embedding its photos in
    one pass (fluxcull.embedding.import_job), embed whatever else lacks an embedding, link the keepers
    to their originals, then train the keeper model (which re-scores every photo).

    `before_train()` runs between matching and training (the demo's near-miss decisions); what it
    returns joins the summary. Returns {'ingest_<role>', 'embed', 'match', 'train', ...}.
    """
    from fluxcull.embedding.embed import embed_job
    from fluxcull.embedding.import_job import import_job
    from fluxcull.keeper.train import train_job
    from fluxcull.matching import match_job

    summary: dict = {}
    embedded: list[dict] = []
    for role in ROLE_ORDER:
        if folders.get(role):
            s = yield from import_job(lib, [folders[role]], role, cancel=cancel, workers=workers)
            summary[f"ingest_{role}"] = s["ingest"]
            embedded.append(s["embed"])
    summary["places"] = place_sessions(lib)
    # embeddings first: matching falls back to image similarity for stripped, renamed exports
    summary["embed"] = _embedded_in_all(embedded, (yield from embed_job(lib, cancel=cancel)))
    summary["stacks"] = yield from stacks_job(lib, cancel=cancel)
    summary["match"] = yield from match_job(lib, cancel=cancel)
    if before_train is not None:
        summary.update(before_train())
    summary["train"] = yield from train_job(lib, cancel=cancel)  # re-scores every photo too
    return summary


def _embedded_in_all(parts: list[dict], last: dict) -> dict:
    """The summary of the `embed` run last, counting what the imports before it embedded too."""
    out = dict(last)
    for k in ("embedded", "featured"):
        out[k] = last.get(k, 0) + sum(p.get(k, 0) for p in parts)
    out["errors"] = [e for p in parts for e in p.get("errors", [])] + list(last.get("errors", []))
    return out


def inbox_arrived_job(lib, folder: str, *, cancel: CancelToken | None = None, workers: int | None = None) -> Job:
    """Import the inbox folder (ingest and embed in one pass), then score what arrived (scoring needs
    a trained model); the summary's 'not_scored' says why the new photos carry no score yet."""
    from fluxcull.embedding.import_job import import_job

    imported = yield from import_job(lib, [folder], "inbox", cancel=cancel, workers=workers)
    summary = {"ingest": imported["ingest"], "places": place_sessions(lib), "embed": imported["embed"]}
    try:
        from fluxcull.keeper.score import score_job
    except ImportError as exc:
        summary["not_scored"] = f"keeper model not available: {exc}"
        return summary
    summary["stacks"] = yield from stacks_job(lib, role="inbox", cancel=cancel)  # the inbox's sessions only
    try:
        # the inbox's sessions only: context inputs depend on a photo's session alone, and the
        # originals' scores do not change when new photos arrive
        summary["score"] = yield from score_job(lib, cancel=cancel, role="inbox")
    except Cancelled:
        raise
    except Exception as exc:  # e.g. no model trained yet: the photos are in, unscored
        summary["not_scored"] = f"{type(exc).__name__}: {exc}"
    return summary


def inbox_moved_job(lib, old: str, new: str, *, cancel: CancelToken | None = None, workers: int | None = None) -> Job:
    """The INBOX folder changed from `old` to `new` (Library settings): the old folder's photos under
    none of the library's folders now are no longer shown (Catalog.detach_outside), then the new
    folder is ingested, where a byte-identical photo takes over its detached row (same SHA-256: path
    re-pointed; decisions, scores and links kept) instead of being added twice; what is new is
    embedded and scored. Adds 'detached' (photos of the old folder set aside) to the summary."""
    from pathlib import Path

    from fluxcull.errors import MissingPath

    if not Path(new).is_dir():  # nothing set aside for a folder that is not there
        raise MissingPath(f"{new}: no such folder (the new INBOX folder); the old one's photos stay")
    catalog = Catalog.open(lib.catalog_path)
    try:
        detached = catalog.detach_outside("inbox", old)
    finally:
        catalog.close()
    summary = yield from inbox_arrived_job(lib, new, cancel=cancel, workers=workers)
    summary["detached"] = detached
    return summary


def place_sessions(lib) -> dict:
    """Sessions' places from their GPS centroids, offline (fluxcull.insights.places), at the end of an
    ingest; {'placed': n}, or {'error': why} (never fatal: the photos are in)."""
    from fluxcull.errors import FluxcullError
    from fluxcull.insights.places import fill_places

    conn = lib.connect()
    try:
        return fill_places(conn)
    except FluxcullError as exc:
        return {"error": str(exc)}
    finally:
        conn.close()


def stacks_job(lib, *, rebuild: bool = False, role: str | None = None, cancel: CancelToken | None = None) -> Job:
    """The stored stacks (the keeper model's bursts, fluxcull.keeper.stacks) brought up to date: the
    session groups whose photos or embeddings changed since (of the sessions of `role`'s photos),
    every group with `rebuild`."""
    from fluxcull.keeper.stacks import stacks_job as job

    return job(lib, rebuild=rebuild, role=role, cancel=cancel)


def import_photos_job(lib, paths: list[str], role: str, *, cancel: CancelToken | None = None,
                      **options) -> Job:
    """`fluxcull import`: ingest and embed `paths` under `role` in one pass (fluxcull.embedding.import_job,
    `options` are its), then the sessions' places and the role's stacks; the import's summary with
    'places' and 'stacks' added."""
    from fluxcull.embedding.import_job import import_job

    summary = yield from import_job(lib, paths, role, cancel=cancel, **options)
    summary["places"] = place_sessions(lib)
    summary["stacks"] = yield from stacks_job(lib, role=role, cancel=cancel)
    return summary


def embed_and_stack_job(lib, *, cancel: CancelToken | None = None, **embed_options) -> Job:
    """`fluxcull embed`: embed what lacks an embedding, then bring the stacks up to date; the embed
    summary with 'stacks' added."""
    from fluxcull.embedding.embed import embed_job

    summary = yield from embed_job(lib, cancel=cancel, **embed_options)
    summary["stacks"] = yield from stacks_job(lib, cancel=cancel)
    return summary


def retrain_job(lib, *, cancel: CancelToken | None = None) -> Job:
    """Build pairs from every decision so far, train, evaluate against the active model, re-score."""
    from fluxcull.keeper.train import train_job

    return train_job(lib, cancel=cancel)


def rescore_job(lib, *, cancel: CancelToken | None = None) -> Job:
    """Re-score every photo with the active keeper model."""
    from fluxcull.keeper.score import score_job

    return score_job(lib, cancel=cancel)


def export_xmp_job(lib, *, dest: str = "mirror", decided_only: bool = True, session_id: int | None = None,
                   cancel: CancelToken | None = None) -> Job:
    """Each photo's decision and keeper score into its XMP sidecar: `dest` 'mirror' (LIBRARY/export/xmp)
    or 'sidecar' (beside the photos); see fluxcull.interop.export_xmp for the summary."""
    from fluxcull.interop.export_xmp import export_xmp_job as job

    return job(lib, dest=dest, decided_only=decided_only, session_id=session_id, cancel=cancel)


def xmp_mirror_folder(lib):
    """Where the XMP export writes by default (LIBRARY/export/xmp)."""
    from fluxcull.interop.export_xmp import mirror_folder

    return mirror_folder(lib)


def session_bursts(lib, catalog: Catalog, session_id: int) -> dict[int, int]:
    """Burst id of every photo of a session (fluxcull.keeper.bursts, the one burst definition, with the
    library's `bursts` setting). Two frames with no embedding to compare (not embedded yet) are judged
    by their capture times alone."""
    import numpy as np

    from fluxcull.catalog.queries import PhotoQuery
    from fluxcull.keeper.bursts import BurstRule, find_bursts

    ids = catalog.photo_ids(PhotoQuery(session_id=int(session_id), sort="time"))
    if not ids:
        return {}
    recs = catalog.photos(ids)
    ids = np.array(sorted(ids, key=lambda i: (recs[i].get("capture_time") is None,
                                               recs[i].get("capture_time") or 0.0, i)), np.int64)
    times = np.array([recs[int(i)].get("capture_time") if recs[int(i)].get("capture_time") is not None
                      else np.nan for i in ids], np.float64)
    emb = _embeddings_or_none(lib, catalog, ids)
    adjacent = np.ones(len(ids), np.float32)  # no embeddings: time alone decides
    unit = np.zeros((len(ids), 1), np.float32)  # frames two apart: alike only by their embeddings
    if emb is not None:
        have = np.isfinite(emb[:, 0])
        unit = np.nan_to_num(emb)
        sims = np.einsum("ij,ij->i", unit[1:], unit[:-1])
        both = have[1:] & have[:-1]
        adjacent[1:][both] = sims[both]
    burst = find_bursts(ids, np.zeros(len(ids), np.int64), times, lambda pos: unit[np.asarray(pos, np.int64)],
                        rule=BurstRule.from_settings(catalog.connection), adjacent=adjacent)
    return {int(i): int(b) for i, b in zip(ids, burst)}


def _embeddings_or_none(lib, catalog: Catalog, ids):
    """L2-normalised embeddings of `ids` (NaN rows where a photo has none), or None without a store."""
    import numpy as np

    try:
        from fluxcull.embedding.store import current_store

        store = current_store(lib, catalog.connection)
        have, _rows = store.ids_and_rows()
    except Exception:  # no embeddings yet, or a damaged store: bursts by time alone
        return None
    present = np.isin(ids, have)
    if not present.any():
        return None
    m = store.get(ids[present])
    m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
    out = np.full((len(ids), m.shape[1]), np.nan, np.float32)
    out[present] = m
    return out


def burst_members(lib, catalog: Catalog, photo_id: int) -> list[int]:
    """The photos of `photo_id`'s burst, in capture order (itself alone when it has no session)."""
    rec = catalog.photo(int(photo_id))
    if rec is None or rec.get("session_id") is None:
        return [int(photo_id)]
    bursts = session_bursts(lib, catalog, rec["session_id"])
    mine = bursts.get(int(photo_id))
    return [i for i, b in bursts.items() if b == mine] or [int(photo_id)]


def informative_pair(catalog: Catalog, session_id: int | None, lib=None,
                     within: int | None = None) -> tuple[int, int] | None:
    """The keeper model's next most informative pair to compare: two undecided frames of one burst of
    the session (close scores, model uncertain); with `within`, of that photo's burst only. Frames
    of different bursts are never paired. None when no such pair is left (or no session is given)."""
    from fluxcull.keeper.pairs import next_informative_pair

    if session_id is None:
        return None
    group_of = session_bursts(lib, catalog, session_id) if lib is not None else None
    only = None if within is None or group_of is None else group_of.get(int(within))
    pair = next_informative_pair(catalog.connection, session_id=session_id, group_of=group_of, only_group=only)
    return None if pair is None else (int(pair[0]), int(pair[1]))


def model_report(lib) -> dict:
    """The active model's evaluation on today's data (nothing saved)."""
    from fluxcull.keeper.eval_report import eval_report

    return eval_report(lib)


def explanation_lines(report: dict) -> list[str]:
    """An explain report in sentences (for the GUI's explanation)."""
    from fluxcull.keeper.explain_words import explanation_lines as lines

    return lines(report)


def explanation_view(report: dict) -> dict:
    """An explain report as the GUI's explanation panel (fluxcull.keeper.explain_words.explain_view)."""
    from fluxcull.keeper.explain_words import explain_view

    return explain_view(report)


def model_quality(summary: dict) -> dict:
    """The model panel's content from an evaluation report or a training summary
    (fluxcull.keeper.quality_words.panel)."""
    from fluxcull.keeper.quality_words import panel

    return panel(summary)


def explain_photo(lib, photo_id: int) -> dict:
    """The rule or model behind a photo's score."""
    from fluxcull.keeper.explain import explain

    return explain(lib, photo_id)


def active_backbone_name(catalog: Catalog) -> str:
    """The embedding backbone the library uses now (its setting, else the one most photos are
    embedded with, else the default): what an empty `backbone` setting means."""
    from fluxcull.embedding.backbones import DEFAULT_BACKBONE
    from fluxcull.embedding.store import active_backbone_id

    return (active_backbone_id(catalog.connection) or DEFAULT_BACKBONE).split("@", 1)[0] or DEFAULT_BACKBONE


def backbone_names() -> list[str]:
    """The embedding backbones the `backbone` setting accepts."""
    from fluxcull.embedding.backbones import list_backbones

    return [bb.name for bb in list_backbones()]
