"""`fluxcull stacks`: the stacks (bursts) of the library or of one session, with their frames and best
frame; `--rebuild` computes every stack again (a job with a progress bar; Ctrl+C stops it)."""

from __future__ import annotations

from fluxcull.cli.common import drive, emit_json
from fluxcull.library import Library
from fluxcull.validate import int_option


def register(sub) -> None:
    p = sub.add_parser(
        "stacks", help="stacks of burst frames, with their frames and best frame (--rebuild: compute them again)",
        description="List the stacks: the bursts of the keeper model (frames of one scene seconds apart that look "
                    "alike; setting `bursts`), each with its frames in capture order and its best frame (the "
                    "highest keeper score), as the grid shows them collapsed. Stacks are kept up to date by "
                    "`fluxcull embed`; --rebuild computes every one of them again.")
    p.add_argument("--session", type=int_option(1), metavar="ID", help="only this session's stacks")
    p.add_argument("--rebuild", action="store_true", help="compute every stack again (a job; prints its summary)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=run_stacks)


def run_stacks(args, lib: Library) -> int:
    if args.rebuild:
        from fluxcull.workflows import stacks_job

        s = drive(stacks_job(lib, rebuild=True), quiet=args.json)
        if args.json:
            emit_json(s)
        else:
            print(f"{s['stacks']} stacks of two or more frames ({s['stacked_photos']} of {s['photos']} embedded photos), "
                  f"{s['written']} photos changed stack, {s['cleared']} left without one; {s['computed_groups']} "
                  f"session groups computed in {s['seconds']:.1f}s (gap {s['rule']['gap_seconds']:g} s, "
                  f"similarity {s['rule']['min_similarity']:g})")
        return 0
    from fluxcull.catalog import Catalog

    catalog = Catalog(lib.connect())
    try:
        stacks = catalog.stacks(args.session)
    finally:
        catalog.close()
    if args.json:
        emit_json(stacks)
        return 0
    if not stacks:
        where = f"session {args.session}" if args.session is not None else "this library"
        print(f"No stacks in {where}: no two embedded frames of one scene seconds apart (stacks are computed by "
              "`fluxcull embed`; `fluxcull stacks --rebuild` computes them again)")
        return 0
    print(f"{'stack':>7} {'session':>7} {'frames':>6}  {'taken':<19}  best")
    for s in stacks:
        best = next(f for f in s["frames"] if f["id"] == s["best"])
        score = "-" if best["keeper_score"] is None else f"{best['keeper_score']:.2f}"
        print(f"{s['stack_id']:>7} {s['session_id'] if s['session_id'] is not None else '-':>7} {s['size']:>6}  "
              f"{(s['taken_at'] or '-')[:19]:<19}  {_name(best)} ({score})")
        for f in s["frames"]:
            score = "-" if f["keeper_score"] is None else f"{f['keeper_score']:.2f}"
            mark = "*" if f["id"] == s["best"] else " "
            print(f"{'':>16}{mark} {f['position']:>2}. {f['id']:>7} {score:>5} {f['decision']:<6} {_name(f)}")
    print(f"({len(stacks)} stacks)")
    return 0


def _name(frame: dict) -> str:
    return (frame.get("path") or "").rsplit("/", 1)[-1]
