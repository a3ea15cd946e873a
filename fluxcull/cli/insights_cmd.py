"""`fluxcull rediscover`, `analytics`, `motifs`: what the keeper model shows about a whole library
(the rules are in fluxcull.insights)."""

from __future__ import annotations

from fluxcull.catalog.insight_reads import REDISCOVER_MIN_SCORE
from fluxcull.cli.common import emit_json
from fluxcull.validate import float_option, int_option


def register(sub) -> None:
    r = sub.add_parser(
        "rediscover", help="probable keepers among the originals nobody ever decided on",
        description="List originals scoring at least --min-score that were never kept, never linked from the "
        "keeper archive and never decided on, by session (the session with the best photo first).")
    r.add_argument("--min-score", type=float_option(0.0, 1.0), default=REDISCOVER_MIN_SCORE, metavar="S",
                   help=f"(default {REDISCOVER_MIN_SCORE:g}, the find filter rediscover=yes's)")
    r.add_argument("--json", action="store_true", help="print them as JSON")
    r.set_defaults(func=cmd_rediscover)

    from fluxcull.insights.analytics import DIMENSIONS

    a = sub.add_parser(
        "analytics", help="keepers, keeper density and mean score per session, place, time or gear",
        description="Keeper counts (confirmed keepers and photos marked keep), photos, keeper density with its "
        "Wilson 95%% interval and mean keeper score, per group.")
    a.add_argument("--by", choices=DIMENSIONS, default=None, help="how to group (default session)")
    a.add_argument("--places", action="store_true",
                   help="first fill sessions' places from their GPS centroids (offline reverse geocoding)")
    a.add_argument("--plots", metavar="DIR", help="also write PNG charts into DIR")
    a.add_argument("--drift", action="store_true",
                   help="instead: taste drift, what recent decisions prefer against the archive's older ones")
    a.add_argument("--recent-months", type=int_option(1, 600), metavar="N",
                   help="with --drift: the recent window (default: the setting drift.recent_months, 12)")
    a.add_argument("--json", action="store_true", help="print the table as JSON")
    a.set_defaults(func=cmd_analytics)

    m = sub.add_parser(
        "motifs", help="keepers clustered by look: your recurring motifs",
        description="Cluster the keepers (confirmed and kept) by visual similarity (PCA of the embeddings, then "
        "HDBSCAN; photos that fit no motif are left out) and store the motifs; names you give are kept across "
        "re-clustering where a motif persists.")
    m.add_argument("--min-size", type=int_option(2, 100000), metavar="N", help="smallest motif (default 5)")
    m.add_argument("--name", nargs=2, metavar=("ID", "NAME"), help="name motif ID (no re-clustering)")
    m.add_argument("--list", action="store_true", help="show the stored motifs without re-clustering")
    m.add_argument("--json", action="store_true", help="print the motifs as JSON")
    m.set_defaults(func=cmd_motifs)


def cmd_rediscover(args, lib) -> int:
    from fluxcull.insights.rediscover import rediscover

    conn = lib.connect()
    try:
        res = rediscover(conn, args.min_score)
    finally:
        conn.close()
    if args.json:
        emit_json(res)
        return 0
    print(f"{res['photos']} probable keepers never decided on (score {args.min_score:g} or more), "
          f"in {len(res['sessions'])} sessions")
    for s in res["sessions"]:
        where = f" {s['place']}" if s["place"] else ""
        print(f"session {s['session_id']} ({s['start_at']}{where}): {s['count']} photos, best {s['best']:.3f}")
        for p in s["photos"][:10]:
            print(f"    {p['id']:>8}  {p['score']:.3f}  {p['path']}")
        if s["count"] > 10:
            print(f"    ... {s['count'] - 10} more")
    return 0


def cmd_analytics(args, lib) -> int:
    from fluxcull.insights.analytics import analytics, fmt_interval

    if args.drift or args.recent_months is not None:
        return cmd_drift(args, lib)
    args.by = args.by or "session"
    conn = lib.connect()
    try:
        placed = None
        if args.places:
            from fluxcull.insights.places import fill_places

            placed = fill_places(conn)
        res = analytics(conn, args.by)
        if args.plots:
            from fluxcull.insights.plots import write_plots

            res["plots"] = write_plots(conn, args.plots)
    finally:
        conn.close()
    if placed is not None:
        res["places"] = placed
    if args.json:
        emit_json(res)
        return 0
    t = res["totals"]
    if placed is not None:
        print(f"places: {placed['placed']} sessions placed")
    print(f"{t['photos']} photos, {t['keepers']} keepers" +
          (f", density {t['density']:.3f}" if t["density"] is not None else ""))
    print(f"{args.by:<28} {'photos':>8} {'keepers':>8} {'density':>8} {'95% interval':>13} {'score':>6}")
    for g in res["groups"]:
        ms = f"{g['mean_score']:.3f}" if g["mean_score"] is not None else "-"
        print(f"{str(g['key'])[:28]:<28} {g['photos']:>8} {g['keepers']:>8} {g['density']:>8.3f} "
              f"{fmt_interval(g):>13} {ms:>6}")
    for p in res.get("plots", []):
        print(f"plot: {p}")
    return 0


def cmd_drift(args, lib) -> int:
    from fluxcull.errors import InvalidValue
    from fluxcull.insights import drift

    if not args.drift:
        raise InvalidValue("--recent-months goes with --drift")
    if args.by or args.plots or args.places:
        raise InvalidValue("--drift goes alone: not with --by, --plots or --places")
    from fluxcull.insight_workflows import taste_drift

    res = taste_drift(lib, args.recent_months)
    if args.json:
        emit_json(res)
        return 0
    print(drift.summary(res))
    if res["status"] != "ok":
        return 0
    print("AUC: the chance a keeper has the higher value (0.5: no preference); d: standardised mean difference; "
          "change and z: recent minus archive; n: keepers/others")
    print(_table(drift.FEATURE_HEADS, [drift.feature_cells(r) for r in res["features"]],
                 left=(0, len(drift.FEATURE_HEADS) - 1)))
    if res["motifs"]:
        print("\nMotifs: share of each window's keepers")
        print(_table(drift.MOTIF_HEADS, [drift.motif_cells(m) for m in res["motifs"]]))
    return 0


def _table(heads, rows, left=(0,)) -> str:
    """Columns padded to their widest cell; those in `left` flush left, the numbers right."""
    widths = [max(len(str(x[i])) for x in [heads, *rows]) for i in range(len(heads))]
    return "\n".join("  ".join(str(v).ljust(widths[i]) if i in left else str(v).rjust(widths[i])
                               for i, v in enumerate(x)).rstrip() for x in [heads, *rows])


def cmd_motifs(args, lib) -> int:
    from fluxcull.insights import motifs

    conn = lib.connect()
    try:
        if args.name:
            res = motifs.rename(conn, args.name[0], args.name[1])
        elif args.list:
            res = motifs.stored(conn)
        else:
            from fluxcull.embedding.store import current_store

            res = motifs.cluster(conn, current_store(lib, conn), min_size=args.min_size)
    finally:
        conn.close()
    if args.json:
        emit_json(res)
        return 0
    if args.name:
        print(f"motif {res['id']} named {res['name']!r}")
        return 0
    print(f"{len(res['motifs'])} motifs among {res.get('keepers', '?')} keepers")
    for m in res["motifs"]:
        name = m["name"] or "(unnamed)"
        years = ", ".join(f"{y}: {c}" for y, c in m["years"].items())
        rate = f", keeper rate {m['keeper_rate']:.3f}" if m.get("keeper_rate") is not None else ""
        print(f"motif {m['id']} {name}: {m['size']} keepers, {m['first']} .. {m['last']}{rate}; medoids "
              f"{', '.join(str(x) for x in m['medoids'])}; {years}")
    return 0
