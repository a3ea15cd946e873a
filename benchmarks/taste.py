"""Taste benchmark: does the keeper model learn *this* photographer's taste?

Seven simulated photographers (benchmarks/taste_build.py: tonal fog, tonal monochrome,
compositional, subject, temporal, location, technical blur threshold), each a photo library built from
real photographs, are run through the real command line as a user would: ingest (originals, keepers,
inbox) -> embed -> match -> decide --reject (near-misses of reviewed sessions) -> train -> score.
The inbox (the newest 25% of sessions, never decided) is then scored against the ground truth of
which frames the photographer would keep: ROC AUC, same-session pairwise accuracy, average
precision, recall in the top 10%, expected calibration error (10 bins). An inbox holds ~120 photos, so
its ECE carries sampling noise: the report also gives the ECE of all inboxes pooled, against the
review as the photographers practise it (not every worthy scene gets its keeper, and the model learns
from those labels), and the ECE a perfectly calibrated model would show on inboxes this size
(taste_metrics.calibration_diagnostics).

Rows per photographer: every method `fluxcull train` offers (read from its --help, each trained with
--force), sharpness alone (the inbox photos' sharpness_laplacian feature), and *active*: a plain
`fluxcull train` as a user runs it (the automatic choice where there is one), with the method it chose.

    python -m benchmarks taste [--quick]
    python -m benchmarks.taste [--quick] [--only NAME,...] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import REPO_ROOT, write_results
from benchmarks.taste_build import KEEP_NOISE, TASTES, build
from benchmarks.taste_metrics import all_metrics, auc_interval, burst_diagnostics, calibration_diagnostics

FULL = {"sessions": 26, "scenes": (4, 6)}
QUICK = {"sessions": 12, "scenes": (3, 4)}
METRICS = ("auc", "pairwise", "ap", "recall@10%", "ece")
DIAGNOSTICS = ("scene_auc", "burst_top1")
CALIBRATION = ("ece_pooled", "ece_review", "ece_floor", "ece_taste", "ece_taste_worst", "ece_taste_floor")


def fluxcull(lib: Path, *args: str, ok=(0,)) -> dict | list | str:
    """Run `python -m fluxcull --library LIB ARGS...`; parse stdout as JSON when --json is given."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               QT_QPA_PLATFORM="offscreen")
    cmd = [sys.executable, "-m", "fluxcull", "--library", str(lib), *args]
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    if out.returncode not in ok:
        raise RuntimeError(f"{' '.join(args)} exited {out.returncode}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout) if "--json" in args else out.stdout


def train_methods(lib: Path) -> tuple[list[str], str]:
    """The methods `fluxcull train` offers and the option that forces one, read from its --help."""
    text = " ".join(fluxcull(lib, "train", "--help").split())
    m = re.search(r"(--model|--method) \{([^}]*)\}", text)
    if not m:
        return [], ""
    return [x.strip() for x in m.group(2).split(",") if x.strip()], m.group(1)


def inbox_scores(lib: Path) -> dict[str, float | None]:
    rows = fluxcull(lib, "photos", "--role", "inbox", "--json", "--limit", "1000000")
    return {str(Path(r["path"]).resolve()): r.get("keeper_score") for r in rows}


def evaluate(truth_inbox: list[dict], scores: dict, probabilities: bool = True) -> dict:
    y = np.array([p["keep"] for p in truth_inbox], bool)
    missing = [p["abs"] for p in truth_inbox if scores.get(p["abs"]) is None]
    s = np.array([scores.get(p["abs"]) if scores.get(p["abs"]) is not None else 0.0 for p in truth_inbox], float)
    groups = np.array([p["session"] for p in truth_inbox])
    scenes = np.array([f'{p["session"]}.{p["scene"]}' for p in truth_inbox])
    kinds = [p["kind"] for p in truth_inbox]
    ci = auc_interval(y, s, scenes)
    return (all_metrics(y, s, groups, probabilities) | burst_diagnostics(y, s, scenes, kinds)
            | {"auc_90ci": f"{ci[0]:.2f}-{ci[1]:.2f}" if ci else None}
            | {"unscored": len(missing), "scores": [round(float(v), 6) for v in s]})


def sharpness_scores(lib: Path) -> dict[str, float | None]:
    """The inbox photos' stored sharpness_laplacian, read in-process from the catalog the CLI built."""
    from contextlib import closing

    from fluxcull.embedding.features import FEATURE_NAMES, load_features
    from fluxcull.library import Library

    with closing(Library.open(lib).connect()) as conn:
        rows = conn.execute("SELECT id, path FROM photos WHERE role = 'inbox' AND status = 'ok'").fetchall()
        feats = load_features(conn, [r[0] for r in rows])
    col = FEATURE_NAMES.index("sharpness_laplacian")
    return {str(Path(r[1]).resolve()): (None if np.isnan(feats[i, col]) else float(feats[i, col]))
            for i, r in enumerate(rows)}


def match_check(summary: dict, truth: dict, root: Path) -> dict:
    """Keepers linked to the right original, to a wrong one, only proposed for review, or not at all."""
    want = {str((root / k["path"]).resolve()): str((root / k["original"]).resolve()) for k in truth["keepers"]}
    got = {str(Path(link["keeper"]).resolve()): (str(Path(link["original"]).resolve()), link["needs_review"])
           for link in summary.get("links", [])}
    queued = {str(Path(q["keeper"]).resolve()) for q in summary.get("review_keepers", [])}
    c = {"keepers": len(want), "correct": 0, "wrong": 0, "review": 0, "unlinked": 0}
    for k, o in want.items():
        if k in queued or (k in got and got[k][1]):
            c["review"] += 1
        elif k not in got:
            c["unlinked"] += 1
        else:
            c["correct" if got[k][0] == o else "wrong"] += 1
    return c


def run_photographer(name: str, root: Path, size: dict, seed: int) -> dict:
    t0 = time.perf_counter()
    truth = build(root, name, n_sessions=size["sessions"], scenes=size["scenes"], seed=seed)
    root = root.resolve()
    build_s = time.perf_counter() - t0
    lib = root.parent / f"{root.name}-library"  # one library per photographer (a replicate has its own folder)
    for role, folder in (("originals", "ORIGINALS"), ("keepers", "KEEPERS"), ("inbox", "INBOX")):
        fluxcull(lib, "ingest", str(root / folder), "--role", role, "--json", ok=(0, 1))
    fluxcull(lib, "embed", "--json", ok=(0, 1))
    match = fluxcull(lib, "match", "--json")
    rejects = [str(root / p["path"]) for p in truth["photos"] if p["decision"] == "reject"]
    (root.parent / f"{root.name}-rejects.txt").write_text("\n".join(rejects) + "\n")
    if rejects:
        fluxcull(lib, "decide", "--reject", "--from", str(root.parent / f"{root.name}-rejects.txt"), "--json")
    pipeline_s = time.perf_counter() - t0 - build_s
    inbox = [p | {"abs": str(root / p["path"])} for p in truth["photos"] if p["role"] == "inbox"]
    rows = []
    # the active model as a user gets it: plain `train`, then `score`
    try:
        s = fluxcull(lib, "train", "--json")
        fluxcull(lib, "score", "--json")
        active = next((m for m in fluxcull(lib, "models", "--json") if m.get("active")), {})
        chosen = active.get("kind") or s.get("kind")
        rows.append({"method": "active", "chosen": chosen} | evaluate(inbox, inbox_scores(lib)))
    except RuntimeError as exc:
        rows.append({"method": "active", "note": str(exc).splitlines()[-1][:200]})
    methods, flag = train_methods(lib)
    for m in methods:
        try:
            args = ["train", flag, m, "--force", "--json"]
            fluxcull(lib, *args)
            fluxcull(lib, "score", "--json")
            rows.append({"method": m} | evaluate(inbox, inbox_scores(lib)))
        except RuntimeError as exc:  # a method refused on this library: say so, go on
            rows.append({"method": m, "note": str(exc).splitlines()[-1][:200]})
    rows.append({"method": "sharpness"} | evaluate(inbox, sharpness_scores(lib), probabilities=False))
    n_keep = sum(p["keep"] for p in inbox)
    inbox_truth = [{k: p[k] for k in ("path", "session", "scene", "kind", "keep")} for p in inbox]
    return {"taste": name, "kind": TASTES[name][0], "rows": rows, "inbox": inbox_truth,
            "match": match_check(match, truth, root),
            "counts": {"originals": sum(p["role"] == "originals" for p in truth["photos"]),
                       "inbox": len(inbox), "inbox_keepers": n_keep, "keepers": len(truth["keepers"]),
                       "rejects": len(rejects), "sessions": len(truth["sessions"])},
            "seconds": {"build": round(build_s, 1), "pipeline": round(pipeline_s, 1),
                        "train_score": round(time.perf_counter() - t0 - build_s - pipeline_s, 1)}}


def summarise(results: list[dict]) -> tuple[list[dict], list[dict]]:
    """Per-taste rows (the mean over replicates where a taste was built from several seeds), and the
    mean over tastes of every method, with each row's gap to the best AUC."""
    by: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        for row in r["rows"]:
            by.setdefault((r["taste"], row["method"]), []).append(row)
    rows = []
    for (taste, method), rs in by.items():
        out = {"taste": taste, "method": method}
        chosen = sorted({str(x["chosen"]) for x in rs if x.get("chosen")})
        if chosen:
            out["chosen"] = ",".join(chosen)
        for k in (*METRICS, *DIAGNOSTICS):
            vals = [x[k] for x in rs if x.get(k) is not None]
            out[k] = round(float(np.mean(vals)), 4) if vals and len(vals) == len(rs) else None
        if len(rs) == 1:
            out["auc_90ci"] = rs[0].get("auc_90ci")
        elif out["auc"] is not None:
            out["auc_sd_seeds"] = round(float(np.std([x["auc"] for x in rs], ddof=1)), 4)
        note = next((x["note"] for x in rs if x.get("note")), None)
        if note:
            out["note"] = note
        rows.append(out)
    tastes = list(dict.fromkeys(row["taste"] for row in rows))
    for taste in tastes:
        best = max((row["auc"] for row in rows if row["taste"] == taste and row["auc"] is not None), default=None)
        for row in rows:
            if row["taste"] == taste and row["auc"] is not None:
                row["gap_to_best_auc"] = round(best - row["auc"], 4)
    means = []
    for method in dict.fromkeys(row["method"] for row in rows):
        mine = [row for row in rows if row["method"] == method]
        m = {"method": method}
        for k in (*METRICS, *DIAGNOSTICS):
            vals = [row[k] for row in mine if row.get(k) is not None]
            m[k] = round(float(np.mean(vals)), 4) if len(vals) == len(tastes) else None
        m["worst_auc"] = min((row["auc"] for row in mine if row.get("auc") is not None), default=None)
        scored = [(r, row) for r in results for row in r["rows"]
                  if row["method"] == method and row.get("ece") is not None]
        m.update(calibration_diagnostics([(np.array([p["keep"] for p in r["inbox"]]), np.array(row["scores"]))
                                          for r, row in scored], KEEP_NOISE, tastes=[r["taste"] for r, _ in scored]))
        if method == "active":
            m["chosen"] = ",".join(sorted({c for row in mine for c in str(row.get("chosen")).split(",")}))
        means.append(m)
    best = max((m["auc"] for m in means if m["auc"] is not None), default=None)
    for m in means:
        m["gap_to_best_auc"] = round(best - m["auc"], 4) if best is not None and m["auc"] is not None else None
    return rows, means


def _table(rows: list[dict], cols: list[str]) -> str:
    def f(v):
        return "–" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(f(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def run(out_dir: Path, quick: bool, only: list[str] | None = None, keep: Path | None = None,
        replicates: int = 1, seed_base: int = 0) -> dict:
    size = QUICK if quick else FULL
    names = only or list(TASTES)
    results = []
    with tempfile.TemporaryDirectory(prefix="fluxcull-taste-") as tmp:
        base = Path(keep) if keep else Path(tmp)
        for rep in range(replicates):
            for name in names:
                seed = seed_base + list(TASTES).index(name) + 1 + 100 * rep
                print(f"-- taste {name} (seed {seed})", flush=True)
                r = run_photographer(name, base / (name if rep == 0 else f"{name}-r{rep}"), size, seed=seed)
                r["seed"] = seed
                print(json.dumps({k: r[k] for k in ("taste", "seed", "counts", "match", "seconds")}), flush=True)
                results.append(r)
    rows, means = summarise(results)
    cols = ["method", *METRICS, "worst_auc", "gap_to_best_auc", *DIAGNOSTICS, *CALIBRATION, "chosen"]
    match_rows = [{"taste": r["taste"], "seed": r["seed"]} | r["match"] | r["counts"] for r in results]
    notes = (f"Simulated photographers ({'quick' if quick else 'full'}: {size['sessions']} sessions of "
             f"{size['scenes'][0]}-{size['scenes'][1]} scenes each, {replicates} seed(s) per taste"
             f"{f', seeds from {seed_base + 1}' if seed_base else ''}, "
             "newest 25% = inbox), run through the CLI. "
             "Inbox metrics against the taste's intent; 'active' = plain `fluxcull train`; sharpness = "
             "sharpness_laplacian alone (not a probability: no ECE). ece = mean of the per-photographer ECEs; "
             "ece_pooled = all inboxes together; ece_review = pooled, against the review as practised (each "
             f"intended keeper counts {KEEP_NOISE} of a keeper); ece_floor = the mean ECE a perfectly calibrated "
             "model with the same probabilities would show on inboxes this size; ece_taste = each taste's "
             "inboxes together (all its seeds), mean over tastes, ece_taste_worst the worst taste and "
             "ece_taste_floor what a perfectly calibrated model would show on them.\n\n## Mean over tastes\n\n"
             + _table(means, cols) + "\n\n## Keeper matching and sizes\n\n"
             + _table(match_rows, list(match_rows[0])) + "\n\n## Per taste")
    return write_results(out_dir, "taste", rows, meta={"quick": quick, "size": size, "replicates": replicates,
                                                        "seed_base": seed_base,
                                                        "means": means,
                                                        "photographers": results}, notes=notes)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.taste")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="", help=f"comma-separated tastes (default all: {', '.join(TASTES)})")
    ap.add_argument("--keep", default=None, help="build the photographers and libraries here and keep them")
    ap.add_argument("--seeds", type=int, default=1,
                    help="build each taste from this many seeds and average (per-taste figures are noisy)")
    ap.add_argument("--seed-base", type=int, default=0,
                    help="add this to every seed: other photographers of the same tastes, e.g. 200 for a set "
                         "never used to tune the model (seeds 201-207)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "out"))
    args = ap.parse_args(argv)
    only = [n for n in args.only.split(",") if n] or None
    for n in only or []:
        if n not in TASTES:
            ap.error(f"no taste {n!r}; have {', '.join(TASTES)}")
    run(Path(args.out), args.quick, only, Path(args.keep) if args.keep else None, max(1, args.seeds), args.seed_base)
    print((Path(args.out) / "taste.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
