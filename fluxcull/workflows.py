"""The pipeline's workflows, composed once for the command line, the demo and the GUI alike.

Each workflow is a job (a generator of `Progress` returning its summary, fluxcull.jobs) over a
library: the CLI drives it with a progress bar, the GUI on its job thread (fluxcull.ui.worker).

- `build_library_job`: ingest the chosen folders, embed, match keepers, train (which re-scores).
- `inbox_arrived_job`: ingest the inbox, embed and score what arrived.
- `inbox_moved_job`: the INBOX folder changed: photos found again by their bytes are re-pointed.
- `retrain_job`, `rescore_job`: the keeper model again on every decision so far / re-score only.

Also the few keeper-model calls the GUI makes (`informative_pair`, `model_report`, `explain_photo`,
`backbone_names`), so that fluxcull/ui imports no keeper-model module. Nothing here imports Qt; the
heavy packages are imported when a workflow runs.
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
    """Ingest each chosen folder (role -> path) in role order, embed every photo, link the keepers to
    their originals, then train the keeper model (which re-scores every photo).

    `before_train()` runs between matching and training (the demo's near-miss decisions); what it
    returns joins the summary. Returns {'ingest_<role>', 'embed', 'match', 'train', ...}.
    """
    from fluxcull.ingest import ingest_job
    from fluxcull.matching import match_job
    from fluxcull.ml.embed import embed_job
    from fluxcull.ml.train import train_job

    summary: dict = {}
    for role in ROLE_ORDER:
        if folders.get(role):
            summary[f"ingest_{role}"] = yield from ingest_job(lib, [folders[role]], role, cancel=cancel,
                                                              workers=workers)
    # embeddings first: matching falls back to image similarity for stripped, renamed exports
    summary["embed"] = yield from embed_job(lib, cancel=cancel)
    summary["match"] = yield from match_job(lib, cancel=cancel)
    if before_train is not None:
        summary.update(before_train())
    summary["train"] = yield from train_job(lib, cancel=cancel)  # re-scores every photo too
    return summary


def inbox_arrived_job(lib, folder: str, *, cancel: CancelToken | None = None, workers: int | None = None) -> Job:
    """Ingest the inbox folder, then embed and score what arrived (scoring needs a trained model);
    the summary's 'not_scored' says why the new photos carry no score yet."""
    from fluxcull.ingest import ingest_job

    summary = {"ingest": (yield from ingest_job(lib, [folder], "inbox", cancel=cancel, workers=workers))}
    try:
        from fluxcull.ml.embed import embed_job
        from fluxcull.ml.score import score_job
    except ImportError as exc:
        summary["not_scored"] = f"keeper model not available: {exc}"
        return summary
    summary["embed"] = yield from embed_job(lib, cancel=cancel, role="inbox")
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


def retrain_job(lib, *, cancel: CancelToken | None = None) -> Job:
    """Build pairs from every decision so far, train, evaluate against the active model, re-score."""
    from fluxcull.ml.train import train_job

    return train_job(lib, cancel=cancel)


def rescore_job(lib, *, cancel: CancelToken | None = None) -> Job:
    """Re-score every photo with the active keeper model."""
    from fluxcull.ml.score import score_job

    return score_job(lib, cancel=cancel)


def informative_pair(catalog: Catalog, session_id: int | None) -> tuple[int, int] | None:
    """The keeper model's next most informative pair to compare (same session, close scores, uncertain)."""
    from fluxcull.ml.pairs import next_informative_pair

    pair = next_informative_pair(catalog.connection, session_id=session_id)
    return None if pair is None else (int(pair[0]), int(pair[1]))


def model_report(lib) -> dict:
    """The active model's evaluation on today's data (nothing saved)."""
    from fluxcull.ml.evaluate import eval_report

    return eval_report(lib)


def explanation_lines(report: dict) -> list[str]:
    """An explain report in sentences (for the GUI's explanation)."""
    from fluxcull.ml.explain_words import explanation_lines as lines

    return lines(report)


def explain_photo(lib, photo_id: int) -> dict:
    """The rule or model behind a photo's score."""
    from fluxcull.ml.explain import explain

    return explain(lib, photo_id)


def backbone_names() -> list[str]:
    """The embedding backbones the `backbone` setting accepts."""
    from fluxcull.ml.backbones import list_backbones

    return [bb.name for bb in list_backbones()]
