"""Recency weighting of training (setting training.recency_half_life_months): the factors halve per
half-life before the newest training photo and average 1; off, training is untouched; on, it changes
the model, the same way every time, and evaluation says it was used."""

from __future__ import annotations

import json

import numpy as np
import pytest

import modelgen
from fluxcull.catalog.settings import put
from fluxcull.cli import main
from fluxcull.keeper.evaluate import fit_model
from fluxcull.keeper.inputs import prepare
from fluxcull.keeper.recency import MONTH_S, recency_factors, training_weights


def test_factors_halve_per_half_life_and_average_one_over_the_training_photos():
    t0 = 1.7e9
    time = np.array([t0, t0 - 12 * MONTH_S, t0 - 24 * MONTH_S, np.nan, t0 + 6 * MONTH_S])
    train = np.array([True, True, True, True, False])
    f = recency_factors(time, train, 12)
    assert f[1] / f[0] == pytest.approx(0.5) and f[2] / f[0] == pytest.approx(0.25)
    assert f[train & np.isfinite(time)].mean() == pytest.approx(1.0)
    assert f[3] == 1.0                      # no date: the mean factor
    assert f[4] == pytest.approx(f[0])      # after the newest training photo: as new as it
    assert (recency_factors(time, train, 0) == 1.0).all()
    assert (recency_factors(time, np.zeros(5, bool), 12) == 1.0).all()   # no training photo: unchanged
    w = np.array([1.0, 2.0, 1.0, 1.5, 1.0], np.float32)
    assert training_weights(w, time, train, 0) is w   # off: the very weights, bit for bit
    np.testing.assert_allclose(training_weights(w, time, train, 12), w * f, rtol=1e-6)


@pytest.fixture
def prepared(library, conn):
    g = modelgen.build(library, conn, n=500, sessions=20, seed=4, spacing_days=45.0)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    return prepare(library, conn, seed=0)


@pytest.mark.parametrize("kind", ["linear", "gbt"])
def test_training_with_recency_differs_and_is_deterministic(prepared, kind):
    assert prepared.recency_half_life_months == 0   # the default: off
    labelled = prepared.corpus.label >= 0

    def fit():
        arrays, _ = fit_model(prepared, kind, labelled, seed=0)
        return arrays["w"] if kind == "linear" else arrays["booster"].model_to_string()

    off = fit()
    prepared.recency_half_life_months = 6
    on, again = fit(), fit()
    if kind == "linear":
        np.testing.assert_array_equal(on, again)
        assert not np.allclose(on, off)
    else:
        assert on == again and on != off


def test_setting_reaches_evaluation(library, conn, capsys):
    g = modelgen.build(library, conn, n=400, sessions=16, seed=6, spacing_days=45.0)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    put(conn, "training.recency_half_life_months", 9)
    assert prepare(library, conn).recency_half_life_months == 9
    assert main(["eval", "--json", "--model", "linear"]) == 0
    on = json.loads(capsys.readouterr().out)
    assert main(["eval", "--json", "--model", "linear", "--recency-half-life", "0"]) == 0
    off = json.loads(capsys.readouterr().out)
    assert on["recency_half_life_months"] == 9 and off["recency_half_life_months"] == 0
    row = {(r["split"], r["method"].rstrip(" *")): r for r in on["table"]}
    row_off = {(r["split"], r["method"].rstrip(" *")): r for r in off["table"]}
    assert row[("by_time", "linear")]["roc_auc"] != row_off[("by_time", "linear")]["roc_auc"]
    assert row[("by_time", "sharpness")] == row_off[("by_time", "sharpness")]   # baselines do not train
