"""`fluxcull sequence`: orders for a draft's photos, with their scores and reasons; `--apply` writes
one into the draft (the objective and the modes are in fluxcull.insights.sequence)."""

from __future__ import annotations

from fluxcull.cli.common import emit_json
from fluxcull.validate import int_option

MODES = ("chronological", "flow", "bookends")


def register(sub) -> None:
    p = sub.add_parser(
        "sequence", help="suggest orders for a draft's photos (chronological, flow, bookends), with reasons",
        description="Suggest sequences for draft ID, each scored by one objective (near-duplicates side by side, "
        "likeness of neighbours, the same motif twice, brightness steps and steps back in time cost; strong "
        "photos at the ends gain) and told transition by transition in words. chronological: time order; "
        "flow: time order reshaped for variety and tone, never two near-duplicates side by side when another "
        "order avoids it; bookends: the two strongest photos open and close. --apply --mode M writes M's order "
        "into the draft (a proposed draft only: re-open an approved one with `fluxcull draft-reopen ID`).")
    p.add_argument("id", type=int_option(1), metavar="ID")
    p.add_argument("--mode", choices=MODES, action="append",
                   help="this mode only (repeatable; default: all three)")
    p.add_argument("--apply", action="store_true", help="write the --mode's order into the draft")
    p.add_argument("--json", action="store_true", help="print the suggestions as JSON")
    p.set_defaults(func=cmd_sequence)


def cmd_sequence(args, lib) -> int:
    from fluxcull.embedding.store import current_store
    from fluxcull.errors import InvalidValue
    from fluxcull.insights import sequence

    if args.apply and len(args.mode or []) != 1:
        raise InvalidValue("--apply needs one --mode: the suggestion to write into the draft")
    conn = lib.connect()
    try:
        store = current_store(lib, conn)
        if args.apply:
            res = sequence.apply(conn, store, args.id, args.mode[0])
        else:
            res = sequence.suggest(conn, store, args.id, args.mode)
    finally:
        conn.close()
    if args.json:
        emit_json(res)
        return 0
    cur = res["current"]
    print(f"draft {res['draft']} ({res['status']}), {len(cur['order'])} photos; its order now scores "
          f"{cur['score']:.3f} ({cur['summary']})")
    for s in res["suggestions"]:
        print(f"\n{s['mode']}: score {s['score']:.3f}, {s['moved']} photos in other places — {s['summary']}")
        print(f"  order: {' '.join(str(i) for i in s['order'])}")
        for t in s["transitions"]:
            print(f"  {t['position']:3d}→{t['position'] + 1:<3d} {t['from']} → {t['to']}: {', '.join(t['reasons'])}")
    if "applied" in res:
        a = res["applied"]
        print(f"\n{a['mode']} order " + ("written into" if a["changed"] else "was already") + f" draft {res['draft']}")
    return 0
