"""`fluxcull match`, `review`, `link`, `unlink`: link the keeper archive to the originals."""

from __future__ import annotations

import argparse

from fluxcull.cli.common import drive, emit_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "match",
        help="link keeper-archive photos to their originals",
        description="Link every keeper-archive photo to its original: capture time, camera file name, "
        "identical bytes, then embedding similarity. Incremental: only new or changed keepers (and, once "
        "the originals changed, those left in review or unmatched) are matched again.",
    )
    p.add_argument("--all", dest="redo_all", action="store_true",
                   help="redo every automatic match (manual links and unlinks are kept)")
    p.add_argument("--json", action="store_true", help="print the summary, every link and every unmatched keeper as JSON")
    p.set_defaults(func=cmd_match)

    p = sub.add_parser("review", help="keepers whose match needs a person: proposed links and unmatched keepers",
                       description="List links proposed for review and unmatched keepers with their best candidates.")
    p.add_argument("--json", action="store_true", help="print the queue as JSON")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("link", help="link a keeper to its original by hand",
                       description="Link KEEPER to ORIGINAL (photo ids or paths). Logged in the decision log; "
                       "later automatic runs never change it.")
    p.add_argument("keeper", metavar="KEEPER", help="photo id or path of the keeper-archive photo")
    p.add_argument("original", metavar="ORIGINAL", help="photo id or path of the original")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_link)

    p = sub.add_parser("unlink", help="mark a keeper as having no original (undoes a wrong link)",
                       description="Remove KEEPER's link and record that it has no original in the catalog. "
                       "Logged; later automatic runs leave the keeper alone.")
    p.add_argument("keeper", metavar="KEEPER", help="photo id or path of the keeper-archive photo")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_unlink)


def cmd_match(args, lib) -> int:
    from fluxcull.matching import match_job

    summary = drive(match_job(lib, redo_all=args.redo_all), quiet=args.json)
    if args.json:
        emit_json(summary)
        return 0
    linked = summary["linked"]
    auto = {m: n for m, n in linked.items() if m != "manual"}
    print(f"{summary['keepers']} keepers: matched {summary['processed']} this run, "
          f"{summary['unchanged']} unchanged, {summary['manual']} decided by hand ({summary['seconds']:.1f} s)")
    by_method = ", ".join(f"{m} {n}" for m, n in sorted(auto.items())) or "none"
    print(f"  linked      {sum(auto.values()):>6}  ({by_method})")
    print(f"  manual      {linked.get('manual', 0):>6}  linked by hand"
          + (f", {summary['manual_no_original']} marked as having no original" if summary["manual_no_original"] else ""))
    print(f"  review      {summary['review']:>6}" + ("  (see `fluxcull review`)" if summary["review"] else ""))
    print(f"  unmatched   {summary['unmatched']:>6}")
    print(f"  similarity  {summary['similarity']}")
    for q in summary["unmatched_keepers"][:20]:
        print(f"  unmatched: {q['keeper']}: {q['reason']}")
    if len(summary["unmatched_keepers"]) > 20:
        print(f"  ... and {len(summary['unmatched_keepers']) - 20} more (fluxcull review)")
    return 0


def _print_entry(q: dict) -> None:
    print(f"{q['status'].upper():<9} {q['keeper']} (id {q['keeper_id']})")
    if q["reason"]:
        print(f"  reason:   {q['reason']}")
    p = q.get("proposed")
    if p:
        sim = f", similarity {p['similarity']:.3f}" if p.get("similarity") is not None else ""
        print(f"  proposed: {p['original']} (id {p['original_id']}) by {p['method']}{sim}")
    for c in q["candidates"]:
        sim = f"{c['similarity']:.3f}" if c.get("similarity") is not None else "  -  "
        print(f"    id {c['original_id']:<8} sim {sim}  {','.join(c['signals']) or '-':<27} {c['original']}")


def cmd_review(args, lib) -> int:
    from fluxcull.matching import review_queue

    conn = lib.connect()
    try:
        queue = review_queue(conn)
    finally:
        conn.close()
    review = [q for q in queue if q["status"] == "review"]
    unmatched = [q for q in queue if q["status"] == "unmatched"]
    if args.json:
        emit_json({"review": review, "unmatched": unmatched})
        return 0
    if not queue:
        print("nothing to review")
        return 0
    for q in queue:
        _print_entry(q)
    print(f"{len(review)} to review, {len(unmatched)} unmatched. "
          "Confirm with `fluxcull link KEEPER ORIGINAL`, or `fluxcull unlink KEEPER` when it has no original.")
    return 0


def cmd_link(args, lib) -> int:
    from fluxcull.catalog.queries import resolve_photo
    from fluxcull.matching import link

    conn = lib.connect()
    try:
        result = link(conn, resolve_photo(conn, args.keeper), resolve_photo(conn, args.original), source="cli")
    finally:
        conn.close()
    if args.json:
        emit_json(result)
    else:
        print(f"linked {result['keeper']} -> {result['original']}")
    return 0


def cmd_unlink(args, lib) -> int:
    from fluxcull.catalog.queries import resolve_photo
    from fluxcull.matching import unlink

    conn = lib.connect()
    try:
        result = unlink(conn, resolve_photo(conn, args.keeper), source="cli")
    finally:
        conn.close()
    if args.json:
        emit_json(result)
    else:
        print(f"unlinked {result['keeper']}: marked as having no original")
    return 0
