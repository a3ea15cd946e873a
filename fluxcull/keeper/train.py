"""Retraining: evaluate, fit the final model on every label, calibrate, save, activate, re-score.

train_job(lib) runs the whole "Retrain now":
1. read the corpus (labels from the keeper links and the decision log, embeddings, features);
2. evaluate on both splits with all baselines (fluxcull.keeper.evaluate); the out-of-fold scores of the
   random-by-session split are the held-out data the calibrator is fitted on (raw scores for the
   boosted trees, ranks for the others: fluxcull.keeper.calibrate);
3. choose the method (setting `model.kind`, default `auto`: every candidate is evaluated and the
   simplest one within a small margin of the best held-out AUC on the by-time split wins, see
   fluxcull.keeper.evaluate.choose_method; `--model` forces one), fit it on all labelled photos, and store
   the corpus quantiles of its raw scores;
4. save the version (arrays + JSON) with its metrics and training summary;
5. activate it unless it is worse than the active model: the active model's method is evaluated in
   the same run on the same data, and the new one must not lose more than `TOLERANCE` of held-out
   ROC AUC (the selection metric) against it (a model retrained on fresher decisions is judged on those decisions too);
   always when the active one no longer fits the library's embeddings/features; with fewer than
   FEW_KEEPERS_TO_REPLACE keepers the new one must be better by CHOICE_MARGIN (a real improvement, not
   noise) or the active one stays (fluxcull.keeper.choice);
6. re-score every photo with the active model (new decisions always reach the scores).
"""

from __future__ import annotations

import time

import numpy as np

from fluxcull.catalog.marks import import_decided_ids
from fluxcull.errors import FluxcullError
from fluxcull.jobs import CancelToken, Job, Progress
from fluxcull.keeper import calibrate, projection_cache, score_cache
from fluxcull.keeper.choice import CHOICE_MARGIN, FEW_KEEPERS_TO_REPLACE, choice_margin
from fluxcull.keeper.dataset import POS
from fluxcull.keeper.evaluate import (DEFAULT_FOLDS, evaluate_steps, fit_model, format_table, preference_positions,
                                  primary_metric)
from fluxcull.keeper.models_store import (SavedModel, active_version_id, jsonable, load_version, save_version,
                                      version_row)
from fluxcull.keeper.pairs import PairConfig
from fluxcull.keeper.quality_words import quality_sentences
from fluxcull.keeper.ranker import KINDS, burst_scores, params_from_saved, params_to_saved, raw_scores_chunked

TOLERANCE = 0.005
KIND_SETTING = "model.kind"
DEVICE_SETTING = "model.device"  # cpu (default) | cuda | auto


def keep_projection(lib, folder, prep, own_raw: np.ndarray) -> None:
    """Save the training corpus's embedding projection and the new model's own raw scores beside the
    new active version, so scoring reads them instead of every embedding and prediction
    (fluxcull.keeper.projection_cache, fluxcull.keeper.score_cache); drop older versions' caches."""
    k = prep.transform.n_components
    prev = np.r_[-1, prep.corpus.ids[:-1]].astype(np.int64)
    projection_cache.save(folder, prep.corpus.ids, prep.corpus.keys, prep.x[:, :k], prep.adjacent, prev)
    projection_cache.prune(lib.models_dir, folder)
    score_cache.save(folder, prep.input_keys(), own_raw)
    score_cache.prune(lib.models_dir, folder)


def active_projection(lib, conn):
    """(transform, projection cache) of the active model, for `prepare(reuse=...)`; None without one."""
    from fluxcull.keeper.ranker import InputTransform

    try:
        saved = load_version(lib, conn)
        transform = InputTransform.from_arrays(saved.arrays, list(saved.meta.get("feature_names", [])))
    except (FluxcullError, KeyError, ValueError, OSError):  # none, damaged or older: project afresh
        return None
    return transform, projection_cache.load(saved.path)


def train_job(lib, *, cancel: CancelToken | None = None, model_kind: str | None = None, seed: int = 0,
              force: bool = False, score: bool = True, folds: int | None = None, device: str | None = None) -> Job:
    """Train, evaluate, save, activate if not worse, re-score. Returns the summary dict:
    {version, activated, reason, kind, metrics_table, table_text, previous_metrics, calibration,
     data, timings, scoring}."""
    from fluxcull.keeper.inputs import prepare

    conn = lib.connect()
    try:
        kind = model_kind or lib.get_setting(conn, KIND_SETTING, "auto")
        if kind not in (*KINDS, "auto"):
            raise ValueError(f"unknown model kind {kind!r}: expected auto or one of {', '.join(KINDS)}")
        folds = int(folds or lib.get_setting(conn, "model.folds", str(DEFAULT_FOLDS)))
        cfg = PairConfig.from_settings(conn)
        device = device or lib.get_setting(conn, DEVICE_SETTING, "cpu")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        yield Progress("prepare", 0, None, "reading embeddings and features")
        prep = prepare(lib, conn, seed=seed, cancel=cancel, reuse=active_projection(lib, conn))
        timings["prepare_s"] = time.perf_counter() - t0
        timings["prepare"] = prep.timings
        c = prep.corpus
        data = c.summary()
        data["from_imported_marks"] = int(np.isin(c.ids, sorted(import_decided_ids(conn))).sum())

        prev_id = active_version_id(conn)
        prev = version_row(conn, prev_id) if prev_id is not None else None
        t0 = time.perf_counter()
        ev = yield from evaluate_steps(prep, conn, kind=kind, seed=seed, folds=folds, cfg=cfg, cancel=cancel,
                                       device=device, extra_methods=(prev["kind"],) if prev else ())
        timings["evaluate_s"] = time.perf_counter() - t0
        choice = ev.get("choice")
        kind = ev["model"]

        # final model on every labelled photo
        t0 = time.perf_counter()
        yield Progress("fit", 0, 1, f"{kind} model on all {data['positives']} keepers")
        labelled = c.label >= 0
        prefs = preference_positions(conn, c)
        params, fit_info = fit_model(prep, kind, labelled, seed=seed, cfg=cfg, preferences=prefs, cancel=cancel,
                                     device=device)
        m_arrays, texts = params_to_saved(kind, params)
        params = params_from_saved(kind, m_arrays, texts)  # scores exactly as the saved model will give them
        own_raw = raw_scores_chunked(kind, params, prep.x, prep.transform.n_components, cancel=cancel)
        raw_all = own_raw + burst_scores(kind, params, prep.x, prep.burst)
        quantiles = calibrate.score_quantiles(raw_all[labelled])  # ranks against its own training photos
        on_raw = kind in calibrate.RAW_SCALE_KINDS
        oof = ev["oof_raw" if on_raw else "oof_ranks"][kind]
        ok = labelled & np.isfinite(oof)
        y = (c.label[ok] == POS).astype(np.float64)
        calibrator = calibrate.Calibrator.fit_raw(oof[ok], y, quantiles) if on_raw else calibrate.Calibrator.fit(oof[ok], y)
        timings["fit_s"] = time.perf_counter() - t0
        yield Progress("fit", 1, 1)

        model_row = ev["splits"]["random_by_session"]["rows"].get(kind, {})
        calibration = {
            "method": calibrator.method,
            "scale": "raw scores" if on_raw else "ranks",
            "fitted_on": f"out-of-fold {'raw scores' if on_raw else 'corpus ranks'}, random-by-session split",
            "export_rate": round(calibrator.export_rate, 4),
            "ece": model_row.get("ece"),
            "reliability": model_row.get("reliability"),
        }
        metrics = {k: v for k, v in ev.items() if k not in ("oof_ranks", "oof_raw")}
        training = {
            "seed": seed, "kind": kind, "choice": choice, "data": data, "pairs": cfg.to_dict(), "fit": fit_info,
            "preferences": len(prefs), "n_components": prep.transform.n_components, "calibration": calibration,
            "recency_half_life_months": prep.recency_half_life_months,
            "timings": timings,
        }
        arrays = dict(prep.transform.save_arrays())
        arrays.update(m_arrays)
        arrays["quantiles"] = quantiles
        arrays["calibrator"] = calibrator.to_array()
        saved = SavedModel(kind=kind, backbone_id=prep.backbone_id, feature_schema=prep.feature_schema,
                           arrays=arrays, texts=texts, meta={"feature_names": prep.feature_names, "seed": seed},
                           metrics=metrics, training=training)

        # compare with the active version: its method re-evaluated in this same run, on the same data;
        # an automatic choice may prefer a method within the choice's margin of the best, and the
        # same margin holds against the active model (else a retrain could never move to it)
        tolerance = max(TOLERANCE, choice_margin(metrics)) if choice else TOLERANCE
        # with few keepers a retrain on a handful of new decisions moves scores by noise (an unrelated
        # photo can jump to the top): the version in use stays unless the new one is really better
        few = data["positives"] < FEW_KEEPERS_TO_REPLACE
        new_primary = primary_metric(metrics)
        prev_primary = primary_metric(prev["metrics"]) if prev else None
        prev_now = primary_metric(metrics, prev["kind"]) if prev else None
        if prev is None:
            activate, reason = True, "first model"
        elif force:
            activate, reason = True, "forced"
        elif prev["backbone_id"] != prep.backbone_id or prev["feature_schema"] != prep.feature_schema:
            activate, reason = True, "the active model does not fit the current embeddings/features"
        elif few and prev_now is not None and (new_primary is None or new_primary < prev_now + CHOICE_MARGIN):
            activate, reason = False, (
                f"with {data['positives']} keepers a retrain must be clearly better on held-out photos than the "
                f"active model v{prev_id} ({prev['kind']}) to replace it (held-out AUC "
                + (f"{new_primary:.3f}" if new_primary is not None else "unknown")
                + f", needs {prev_now + CHOICE_MARGIN:.3f}); kept v{prev_id} active: your decisions already set "
                "their own photos' scores")
        elif prev_now is None or (new_primary is not None and new_primary >= prev_now - tolerance):
            activate, reason = True, (f"not worse than the active model v{prev_id} ({prev['kind']}) on the same data"
                                      + (f" (held-out AUC {new_primary:.3f} vs {prev_now:.3f})"
                                         if new_primary is not None and prev_now is not None else ""))
        else:
            activate, reason = False, (f"worse than the active model v{prev_id} ({prev['kind']}) on the same data "
                                       f"(held-out AUC {new_primary:.3f} < {prev_now:.3f}); kept v{prev_id} active")
        vid = save_version(lib, conn, saved, activate=activate)
        if activate:
            t0 = time.perf_counter()
            keep_projection(lib, saved.path, prep, own_raw)
            timings["projection_cache_s"] = time.perf_counter() - t0

        summary = {
            "version": vid, "activated": activate, "reason": reason, "kind": kind, "choice": choice, "seed": seed,
            "active_version": active_version_id(conn),
            "metrics_table": metrics["table"], "table_text": format_table(metrics["table"]),
            "previous_version": prev_id,
            "previous_metrics": ({"table": prev["metrics"].get("table"), "primary": prev_primary,
                                  "kind": prev["kind"], "primary_on_current_data": prev_now} if prev else None),
            "primary_metric": {"name": "held-out ROC AUC (newest sessions; else random by session)",
                               "value": new_primary},
            "calibration": calibration, "data": data, "fit": fit_info, "timings": timings,
            "recency_half_life_months": prep.recency_half_life_months,
        }
        summary["in_words"] = quality_sentences(kind, metrics["table"], data["positives"], choice)
        if score:
            from fluxcull.keeper.score import ModelMismatch, load_scoring_model, run_scoring

            t0 = time.perf_counter()
            try:
                model = load_scoring_model(lib, conn)
                summary["scoring"] = yield from run_scoring(
                    lib, conn, model, cancel=cancel, prep=prep if model.saved.id == vid else None)
            except ModelMismatch as exc:
                summary["scoring"] = {"error": str(exc)}
            timings["score_s"] = time.perf_counter() - t0
        return jsonable(summary)
    finally:
        conn.close()
