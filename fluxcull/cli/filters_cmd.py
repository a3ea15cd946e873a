"""`fluxcull filters`: list, save and delete saved filters (named `--where` expressions kept in the
catalog; the window lists them beside the sessions)."""

from __future__ import annotations

from fluxcull.catalog import Catalog
from fluxcull.catalog.filters import query_from
from fluxcull.cli.common import emit_json
from fluxcull.cli.query_cmd import WHERE_HELP
from fluxcull.errors import InvalidValue
from fluxcull.library import Library


def register(sub) -> None:
    import argparse

    p = sub.add_parser("filters", help="saved filters: list them, save one (--save NAME --where EXPR), delete one",
                       epilog=WHERE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    act = p.add_mutually_exclusive_group()
    act.add_argument("--save", metavar="NAME", help="save --where EXPR under NAME (replacing one of that name)")
    act.add_argument("--delete", metavar="NAME", help="delete the saved filter NAME")
    p.add_argument("--where", metavar="EXPR", help="the filter expression to save (below)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=run_filters)


def run_filters(args, lib: Library) -> int:
    if args.save is not None and args.where is None:
        raise InvalidValue("--save NAME needs --where EXPR: the filter to save")
    if args.where is not None and args.save is None:
        raise InvalidValue("--where is saved with --save NAME (`fluxcull photos --where EXPR` lists the photos)")
    catalog = Catalog(lib.connect())
    try:
        if args.save is not None:
            row = catalog.save_filter(args.save, args.where)
            row["photos"] = catalog.count_photos(query_from(row["expression"]))
            return _said(args, row, f"saved filter {row['name']!r}: {row['expression']} ({row['photos']:,} photos)")
        if args.delete is not None:
            row = catalog.delete_filter(args.delete)
            return _said(args, row, f"deleted saved filter {row['name']!r} ({row['expression']})")
        rows = catalog.saved_filters()
        for r in rows:
            r["photos"] = catalog.count_photos(query_from(r["expression"]))
    finally:
        catalog.close()
    if args.json:
        emit_json(rows)
        return 0
    if not rows:
        print("no saved filters yet: fluxcull filters --save NAME --where EXPR")
    width = max((len(r["name"]) for r in rows), default=0)
    for r in rows:
        print(f"{r['name']:<{width}}  {r['photos']:>8,}  {r['expression']}")
    return 0


def _said(args, row: dict, line: str) -> int:
    if args.json:
        emit_json(row)
    else:
        print(line)
    return 0
