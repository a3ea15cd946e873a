"""The keeper model's evaluation said in words: on the command line as in the window, and a progress
bar whose words count what the bar counts."""

from __future__ import annotations

import re

import pytest

import modelgen
from fluxcull.cli import main


@pytest.fixture
def small(library, conn):
    g = modelgen.build(library, conn, n=200, sessions=6, seed=5)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    return g


def test_the_evaluation_progress_counts_what_its_words_say(library, conn, small):
    from fluxcull.keeper.evaluate import evaluate_steps
    from fluxcull.keeper.inputs import prepare

    prep = prepare(library, conn)
    steps = evaluate_steps(prep, conn, kind="linear", folds=4)
    seen = []
    try:
        while True:
            seen.append(next(steps))
    except StopIteration:
        pass
    total = seen[0].total
    for p in seen:
        assert p.total == total
        numbers = [int(n) for n in re.findall(r"\d+", p.message or "")]
        # "5 held-out tests: ..." then "test 3 of 5: ...": the bar's total is the count in words
        assert total in numbers, (p.message, p.done, p.total)
        if "test " in p.message and " of " in p.message:
            assert f"test {p.done} of {p.total}" in p.message


def test_eval_without_json_speaks_in_words_with_plain_columns(library, conn, small, capsys):
    library.set_setting(conn, "model.folds", "2")
    assert main(["train", "--json"]) == 0
    capsys.readouterr()
    assert main(["eval"]) == 0
    out = capsys.readouterr().out
    first = out.strip().splitlines()[0]
    assert "In use: model v1" in first
    assert "in its top 20%" in out
    assert "Ranking (AUC)" in out and "Better of two in a session" in out and "Keepers in its top 20%" in out
    assert "random_by_session" not in out and "by_time" not in out and "table." not in out and '{"' not in out
    small_table = out.split("Details")[0]
    rows = [ln for ln in small_table.splitlines() if "baseline" in ln or "— in use" in ln]
    assert "in use" in rows[0] and all("baseline" in r for r in rows[-3:])


def test_the_demo_summary_speaks_the_words_eval_prints(library, conn, small, capsys):
    import json

    from fluxcull.cli.demo_cmd import summary_lines

    library.set_setting(conn, "model.folds", "2")
    assert main(["train", "--json"]) == 0
    train = json.loads(capsys.readouterr().out)
    summary = {"library": str(library.root), "ingest_originals": {"added": 200, "errors": [{"path": "x", "reason": "y"}]},
               "ingest_keepers": {"unchanged": 12}, "ingest_inbox": {"added": 0},
               "embed": {"embedded": 212, "backbone": "efficientnet_lite0@1"},
               "match": {"linked": {"similarity": 2, "timestamp": 9}, "review": 1, "unmatched": 0},
               "decisions": {"rejected": 8}, "train": train}
    out = "\n".join(summary_lines(summary))
    assert "Photos: 200 originals, 12 from the keeper archive, 0 in the inbox; 1 file could not be read" in out
    assert "11 keepers linked to their originals (2 by look, 9 by capture time); 1 to confirm" in out
    assert "Rejected 8 shaken frames" in out and "Scored " in out
    assert "Model v1 is in use now" in out
    assert "Ranking (AUC)" in out and "Better of two in a session" in out and "Keepers in its top 20%" in out
    # no developer table, no raw dict, no dotted or snake_case keys
    for raw in ("random_by_session", "by_time", "rec@20%", "pair acc", "activated=", "{'", "by_reason", "metrics_table"):
        assert raw not in out, raw
    assert main(["eval"]) == 0
    eval_out = capsys.readouterr().out
    header = next(ln for ln in out.splitlines() if "Ranking (AUC)" in ln)
    assert header in eval_out  # the same table as `fluxcull eval`


def test_explain_headline_names_the_rule_without_repeating_the_score():
    from fluxcull.keeper.explain_words import explain_view

    keeper = explain_view({"path": "/o/R0001.JPG", "score": 1.0, "band": "confirmed", "reason": "confirmed keeper"})
    assert keeper["headline"] == "R0001.JPG: keeper score 1.00, a keeper"
    dark = explain_view({"path": "/o/R0002.JPG", "score": 0.0, "band": "low",
                         "reason": "technical failure: near-black frame"})
    assert "technical failure (near-black frame)" in dark["headline"] and "probably not" not in dark["headline"]


def test_a_retrain_kept_back_by_the_few_keepers_rule_says_so_and_a_tie_shows_its_digits():
    from fluxcull.keeper.quality_words import _verdict

    kept = _verdict({"version": 2, "previous_version": 1, "activated": False, "data": {"positives": 11},
                     "reason": "with 11 keepers a retrain must be clearly better on held-out photos than ...",
                     "primary_metric": {"value": 0.776}, "previous_metrics": {"primary_on_current_data": 0.776}})
    assert "With 11 keepers a retrain must rank your photos clearly better than v1" in kept and "worse" not in kept
    tie = _verdict({"version": 2, "previous_version": 1, "activated": False, "reason": "worse than the active model",
                    "primary_metric": {"value": 0.9981}, "previous_metrics": {"primary_on_current_data": 0.9996}})
    assert "AUC 0.998 against 1.000" in tie
