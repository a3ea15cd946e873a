"""Keeper-model commands: train, score, eval, explain, models, and scripted decisions (decide,
prefer, undo) that append to the decision log with source 'cli'. `undo` also takes back the last
`fluxcull import-marks` (source 'import'), whole."""

from __future__ import annotations

from contextlib import closing

from fluxcull.cli.common import drive, emit_json
from fluxcull.errors import NotFound, UserError
from fluxcull.validate import int_option

SOURCE = "cli"
UNDO_SOURCES = (SOURCE, "import")  # what a plain `fluxcull undo` may take back: the command line's own


def register(sub) -> None:
    p = sub.add_parser("train", help="train the keeper model, evaluate it, activate it if not worse, re-score")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--model", choices=("auto", "gbt", "linear", "mlp", "centroid"), default=None,
                   help="scorer: auto (default, or the setting model.kind: every candidate evaluated, the best "
                        "chosen), gradient-boosted trees, pairwise linear, pairwise MLP, keeper centroid")
    p.add_argument("--seed", type=int_option(0, 2**32 - 1), default=0, help="random seed (training is deterministic per seed)")
    p.add_argument("--force", action="store_true", help="activate the new model even if it evaluates worse")
    p.add_argument("--no-score", action="store_true", help="do not re-score the photos afterwards")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("score", help="recompute every photo's keeper score with the active model")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("eval", help="evaluate the keeper model on this library (both splits, all baselines)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--model", choices=("auto", "gbt", "linear", "mlp", "centroid"), default=None,
                   help="method to evaluate besides the baselines (default auto: every candidate method)")
    p.add_argument("--seed", type=int_option(0, 2**32 - 1), default=None)
    p.add_argument("--recency-half-life", type=int_option(0, 600), default=None, metavar="MONTHS",
                   help="weight training by recency with this half-life instead of the setting "
                   "training.recency_half_life_months (0: off); nothing is stored")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("explain", help="why a photo has its keeper score")
    p.add_argument("photo", help="photo id or path")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("models", help="list the keeper model versions (or activate one)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--activate", type=int_option(1), metavar="VERSION", help="make this version the active one and re-score")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("decide", help="mark photos keep / reject / clear (appends to the decision log)")
    p.add_argument("photos", nargs="*", help="photo ids or paths")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--keep", dest="kind", action="store_const", const="keep")
    g.add_argument("--reject", dest="kind", action="store_const", const="reject")
    g.add_argument("--clear", dest="kind", action="store_const", const="clear")
    p.add_argument("--from", dest="from_file", metavar="FILE",
                   help="read photo ids or paths from FILE, one a line ('-' = stdin; # comments)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_decide)

    p = sub.add_parser("prefer", help="record that WINNER was chosen over LOSER (a side-by-side choice)")
    p.add_argument("winner")
    p.add_argument("loser")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_prefer)

    p = sub.add_parser("undo", help="undo the last decision, rating, label or preference made from the command "
                                    "line (a whole `fluxcull import-marks`, rate or label run at once)")
    p.add_argument("--all-sources", action="store_true", help="undo the last one from any source (also the GUI)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_undo)


# -- model ---------------------------------------------------------------------------------------------
def cmd_train(args, lib) -> int:
    from fluxcull.keeper.train import train_job

    s = drive(train_job(lib, model_kind=args.model, seed=args.seed, force=args.force, score=not args.no_score))
    if args.json:
        emit_json(s)
        return 0
    d = s["data"]
    imported = f", {d['from_imported_marks']} of those decisions from imported marks" \
        if d.get("from_imported_marks") else ""
    st = d.get("stars") or {}
    if st.get("keepers") or st.get("negatives") or st.get("weighted"):
        imported += (f"; from stars: {st['keepers']} keepers, {st['negatives']} negatives, "
                     f"{st['weighted']} weighted (setting training.stars)")
    print(f"trained {s['kind']} model v{s['version']} on {d['photos']} photos: {d['positives']} keepers "
          f"({d['confirmed_keepers']} confirmed, {d['decided_keep']} marked keep), {d['decided_reject']} rejects{imported}, "
          f"{s['fit'].get('pairs', s['fit'].get('rows', '-'))} {'pairs' if 'pairs' in s['fit'] else 'rows'}")
    for sentence in s.get("in_words", []):
        print(sentence)
    from fluxcull.keeper.quality_words import methods_text

    if s.get("choice"):
        print(f"  ({s['choice']})")
    print()
    print(methods_text(s["metrics_table"], s["kind"]))
    print()
    cal = s["calibration"]
    ece = cal.get("ece")
    how = cal["method"] + (f" on {cal['scale']}" if cal.get("scale") else "")
    from fluxcull.keeper.calibrate import unexported_share

    left = unexported_share(cal.get("export_rate"))
    kept = f", {left:.0%} of what you keep left unexported (estimated)" if left is not None else ""
    print((f"calibration: {how}, ECE {ece:.3f}" if ece is not None else f"calibration: {how}") + kept)
    if s.get("previous_metrics") and s["previous_metrics"].get("primary") is not None:
        pm = s["previous_metrics"]
        now = pm.get("primary_on_current_data")
        print(f"previous model v{s['previous_version']} ({pm['kind']}): held-out AUC {pm['primary']:.3f} when trained"
              + (f", {now:.3f} for its method on today's data" if now is not None else ""))
    print(("activated" if s["activated"] else "not activated") + f": {s['reason']}")
    sc = s.get("scoring")
    if sc:
        if "error" in sc:
            print(f"scoring skipped: {sc['error']}")
        else:
            b = sc["bands"]
            print(f"scored {sc['photos']} photos ({sc['changed']} changed): {b['confirmed']} confirmed, "
                  f"{b['high']} high (0.8+), {b['uncertain']} uncertain, {b['low']} low, {b['unscored']} unscored")
    return 0


def cmd_score(args, lib) -> int:
    from fluxcull.keeper.score import score_job

    s = drive(score_job(lib))
    if args.json:
        emit_json(s)
        return 0
    b = s["bands"]
    print(f"scored {s['photos']} photos with {s['kind']} model v{s['version']} ({s['changed']} changed): "
          f"{b['confirmed']} confirmed, {b['high']} high (0.8+), {b['uncertain']} uncertain, {b['low']} low, "
          f"{b['unscored']} unscored")
    return 0


def cmd_eval(args, lib) -> int:
    from fluxcull.keeper.eval_report import eval_report

    r = eval_report(lib, kind=args.model, seed=args.seed, recency_half_life_months=args.recency_half_life)
    if args.json:
        emit_json(r)
        return 0
    from fluxcull.keeper.quality_words import panel

    print("\n".join(model_words_lines(panel(r), details=True)))  # the same words as the window's model panel
    if r.get("recency_half_life_months"):
        print(f"Trained with recency weighting: a photo's weight halves every {r['recency_half_life_months']} "
              "months before the newest one trained on.")
    return 0


def model_words_lines(words: dict, *, details: bool = False) -> list[str]:
    """The model panel's words (fluxcull.keeper.quality_words.panel) as text: sentences, then the methods
    table; with `details`, the numbers behind them (`fluxcull eval`, `fluxcull demo`)."""
    lines = [*words["sentences"], "", words["tested_on"], words["table_text"]]
    if details:
        lines += ["", "Details", "", words["details"]]
    return lines


def cmd_explain(args, lib) -> int:
    from fluxcull.catalog.queries import resolve_photo
    from fluxcull.catalog.raw_jpeg_pairs import unit_of
    from fluxcull.keeper.explain import explain

    with closing(lib.connect()) as conn:
        pid = unit_of(conn, resolve_photo(conn, args.photo))  # a pair's RAW: the pair, scored as its JPEG
    r = explain(lib, pid)
    if args.json:
        emit_json(r)
        return 0
    from fluxcull.keeper.explain_words import explanation_lines

    print(r["path"])
    for line in explanation_lines(r):
        print(f"  {line}")
    if r.get("contributions"):
        print("  inputs that moved the model's score most:")
        for c in r["contributions"]:
            val = "" if c["value"] is None else f" = {c['value']:.3g}"
            print(f"    {c['contribution']:+.3f}  {c['input']}{val}")
    return 0


def cmd_models(args, lib) -> int:
    from fluxcull.keeper.evaluate import primary_metric
    from fluxcull.keeper.models_store import activate_version, list_versions

    with closing(lib.connect()) as conn:
        if args.activate is not None:
            from fluxcull.embedding.store import current_store
            from fluxcull.keeper.context import input_spec
            from fluxcull.keeper.score import load_scoring_model, score_job

            load_scoring_model(lib, conn, args.activate).check_compatible(
                current_store(lib, conn).backbone_id, input_spec()[1])  # refuse before switching
            activate_version(conn, args.activate)
            drive(score_job(lib))
        rows = list_versions(conn)
    out = [{"id": r["id"], "created_at": r["created_at"], "kind": r["kind"], "backbone_id": r["backbone_id"],
            "feature_schema": r["feature_schema"], "active": r["active"], "primary_metric": primary_metric(r["metrics"]),
            "keepers": r["training"].get("data", {}).get("positives")} for r in rows]
    if args.json:
        emit_json(out)
        return 0
    if not out:
        print("no keeper model yet: run `fluxcull train`")
    for r in out:
        pm = "-" if r["primary_metric"] is None else f"{r['primary_metric']:.3f}"
        print(f"{'*' if r['active'] else ' '} v{r['id']:<4} {r['created_at']}  {r['kind']:<8} AUC {pm}  "
              f"keepers {r['keepers']}  {r['backbone_id']}")
    return 0


# -- decisions -----------------------------------------------------------------------------------------
def _read_refs(args) -> list[str]:
    from fluxcull.cli.common import read_ref_lines

    refs = list(args.photos)
    if args.from_file:
        refs += read_ref_lines(args.from_file)
    return refs


def _resolve_all(conn, refs: list[str]) -> list[int]:
    from fluxcull.catalog.queries import resolve_photo

    ids, bad = [], []
    for ref in refs:
        try:
            ids.append(resolve_photo(conn, ref))
        except KeyError:
            bad.append(ref)
    if bad:
        shown = ", ".join(bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise NotFound(f"not in the catalog (nothing was changed): {shown}")
    return ids


def cmd_decide(args, lib) -> int:
    from fluxcull.catalog.decisions import decide

    refs = _read_refs(args)
    if not refs:
        raise UserError("no photos given: name ids or paths, or use --from FILE")
    with closing(lib.connect()) as conn:
        ids = _resolve_all(conn, refs)
        changed = decide(conn, ids, args.kind, SOURCE)
    if args.json:
        emit_json({"decision": args.kind, "photos": ids, "changed": changed})
    else:
        print(f"{args.kind}: {len(ids)} photo(s), {len(changed)} changed")
    return 0


def cmd_prefer(args, lib) -> int:
    from fluxcull.catalog.decisions import prefer

    with closing(lib.connect()) as conn:
        winner, loser = _resolve_all(conn, [args.winner, args.loser])
        event = prefer(conn, winner, loser, SOURCE)
    if args.json:
        emit_json({"winner": winner, "loser": loser, "event_id": event})
    else:
        print(f"preferred {winner} over {loser}")
    return 0


def cmd_undo(args, lib) -> int:
    from fluxcull.catalog.decisions import undo_last

    with closing(lib.connect()) as conn:
        r = undo_last(conn, SOURCE, sources=None if args.all_sources else UNDO_SOURCES)
    if args.json:
        emit_json({"undone": r})
    elif r is None:
        print("nothing to undo")
    elif r.get("batch") is not None:
        kept = r["events"] - r["photos_restored"]
        what = {"rate": "ratings", "label": "colour labels", "prefer": "decisions and a preference"}.get(
            r["kind"], "decisions")
        print(f"undid {r['events']} {what} of one {r['source']} step: {r['photos_restored']} photos restored"
              + (f", {kept} kept what was set after it" if kept else ""))
    else:
        shown = {"rate": f"{r['restored']} stars", "label": f"label {r['restored']}"}.get(r["kind"], r["restored"])
        what = f"restored {shown}" if r["restored"] is not None else "preference removed"
        print(f"undid {r['kind']} on photo {r['photo_id']}: {what}")
    return 0
