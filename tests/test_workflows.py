"""The workflows compose the pipeline's jobs in one place: order, arguments, summaries, and what
the inbox workflow does when there is no model yet. The steps are stand-ins; no Qt."""

from __future__ import annotations

import pytest

from fluxcull import workflows
from fluxcull.jobs import Progress, run_job


@pytest.fixture
def calls(monkeypatch):
    import fluxcull.embedding.embed
    import fluxcull.embedding.import_job
    import fluxcull.ingest
    import fluxcull.keeper.score
    import fluxcull.keeper.stacks
    import fluxcull.keeper.train
    import fluxcull.matching

    log: list = []

    def step(name):
        def job(*args, **kwargs):
            log.append((name, args[1:], {k: v for k, v in kwargs.items() if k != "cancel"}))
            yield Progress(name, 1, 1)
            return {"step": name}
        return job

    def import_job(*args, **kwargs):
        s = yield from step("import")(*args, **kwargs)
        return {"ingest": {"step": "ingest"}, "embed": {"embedded": 3, "featured": 3, "errors": []}, **s}

    monkeypatch.setattr(fluxcull.ingest, "ingest_job", step("ingest"))
    monkeypatch.setattr(fluxcull.embedding.import_job, "import_job", import_job)
    monkeypatch.setattr(fluxcull.matching, "match_job", step("match"))
    monkeypatch.setattr(fluxcull.embedding.embed, "embed_job", step("embed"))
    monkeypatch.setattr(fluxcull.keeper.train, "train_job", step("train"))
    monkeypatch.setattr(fluxcull.keeper.score, "score_job", step("score"))
    monkeypatch.setattr(fluxcull.keeper.stacks, "stacks_job", lambda lib, **kw: step("stacks")(lib, lib, **kw))
    return log


def test_build_library_imports_each_chosen_folder_then_embeds_matches_and_trains(calls, library):
    order = []
    summary = run_job(workflows.build_library_job(
        library, {"inbox": "/in", "originals": "/orig"}, workers=3,
        before_train=lambda: order.append([c[0] for c in calls]) or {"decisions": {"rejected": 2}}))
    # each folder ingested and embedded in one pass; then `embed` for whatever else lacks an embedding
    assert [c[0] for c in calls] == ["import", "import", "embed", "stacks", "match", "train"]
    assert calls[0][1:] == ((["/orig"], "originals"), {"workers": 3})  # role order, not dict order
    assert calls[1][1][1] == "inbox"
    assert order == [["import", "import", "embed", "stacks", "match"]]  # the hook runs just before training
    assert list(summary) == ["ingest_originals", "ingest_inbox", "places", "embed", "stacks", "match", "decisions",
                             "train"]
    assert summary["ingest_inbox"] == {"step": "ingest"}
    assert summary["embed"]["embedded"] == 6 and summary["embed"]["step"] == "embed"  # both imports counted


def test_inbox_arrived_scores_what_arrived_or_says_why_not(calls, library, monkeypatch):
    summary = run_job(workflows.inbox_arrived_job(library, "/inbox", workers=2))
    assert [c[0] for c in calls] == ["import", "stacks", "score"]
    assert calls[0][1:] == ((["/inbox"], "inbox"), {"workers": 2}) and "not_scored" not in summary
    assert list(summary) == ["ingest", "places", "embed", "stacks", "score"]
    assert calls[1][2] == {"rebuild": False, "role": "inbox"}  # the inbox's sessions are stacked ...
    assert calls[2][2] == {"role": "inbox"}  # ... and re-scored, alone

    import fluxcull.keeper.score

    def no_model(lib, *, cancel=None, **kw):
        raise LookupError("no keeper model trained yet")
        yield  # a generator

    monkeypatch.setattr(fluxcull.keeper.score, "score_job", no_model)
    summary = run_job(workflows.inbox_arrived_job(library, "/inbox"))
    assert summary["not_scored"] == "LookupError: no keeper model trained yet"


def test_embed_then_stacks(calls, library):
    summary = run_job(workflows.embed_and_stack_job(library, role="keepers"))
    assert [c[0] for c in calls] == ["embed", "stacks"] and calls[0][2] == {"role": "keepers"}
    assert summary == {"step": "embed", "stacks": {"step": "stacks"}}


def test_worker_threads_setting(library, conn):
    from fluxcull.catalog import Catalog

    assert workflows.worker_threads(library) is None  # 0: automatic
    Catalog(conn).set_setting("worker_threads", 2)
    assert workflows.worker_threads(library) == 2
