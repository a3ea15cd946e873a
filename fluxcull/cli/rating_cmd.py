"""Stars and colour labels from the command line: `fluxcull rate PHOTO... --stars N` and `fluxcull label
PHOTO... --color red|yellow|green|blue|purple|none`, in the style of `fluxcull decide` (ids or paths, or
--from FILE). Each run is one step of the decision log with source 'cli': `fluxcull undo` takes it back
whole (fluxcull.catalog.ratings)."""

from __future__ import annotations

from contextlib import closing

from fluxcull.catalog.ratings import COLOR_LABELS, MAX_STARS, NO_LABEL
from fluxcull.cli.common import emit_json
from fluxcull.cli.model_cmd import SOURCE, _read_refs, _resolve_all
from fluxcull.errors import UserError
from fluxcull.validate import int_option

FROM_HELP = "read photo ids or paths from FILE, one a line ('-' = stdin; # comments)"


def register(sub) -> None:
    p = sub.add_parser("rate", help="give photos 0-5 stars (appends to the decision log; `fluxcull undo` "
                                    "takes it back)")
    p.add_argument("photos", nargs="*", help="photo ids or paths")
    p.add_argument("--stars", type=int_option(0, MAX_STARS), required=True, metavar="N",
                   help=f"stars, 0 (none) to {MAX_STARS}")
    p.add_argument("--from", dest="from_file", metavar="FILE", help=FROM_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rate)

    p = sub.add_parser("label", help="give photos a colour label, or none (appends to the decision log)")
    p.add_argument("photos", nargs="*", help="photo ids or paths")
    p.add_argument("--color", "--colour", dest="color", required=True, choices=(*COLOR_LABELS, NO_LABEL),
                   help="the colour label (none: remove it)")
    p.add_argument("--from", dest="from_file", metavar="FILE", help=FROM_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_label)


def _run(args, lib, kind: str, value) -> dict:
    refs = _read_refs(args)
    if not refs:
        raise UserError("no photos given: name ids or paths, or use --from FILE")
    from fluxcull.catalog import Catalog

    with closing(Catalog(lib.connect())) as catalog:
        ids = _resolve_all(catalog.connection, refs)
        if kind == "rate":
            return catalog.rate(ids, value, SOURCE)
        return catalog.label(ids, None if value == NO_LABEL else value, SOURCE)


def cmd_rate(args, lib) -> int:
    r = _run(args, lib, "rate", args.stars)
    if args.json:
        emit_json({"stars": args.stars, "photos": r["photos"], "changed": r["changed"], "batch": r["batch"]})
    else:
        print(f"{args.stars} star{'s' * (args.stars != 1)}: {len(r['photos'])} photo(s), {len(r['changed'])} changed")
    return 0


def cmd_label(args, lib) -> int:
    r = _run(args, lib, "label", args.color)
    if args.json:
        emit_json({"color": args.color, "photos": r["photos"], "changed": r["changed"], "batch": r["batch"]})
    else:
        print(f"label {args.color}: {len(r['photos'])} photo(s), {len(r['changed'])} changed")
    return 0
