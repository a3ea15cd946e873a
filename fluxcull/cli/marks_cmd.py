"""`fluxcull import-marks`: the culling marks read from XMP at ingest become decisions (source
'import', one batch that `fluxcull undo` takes back at once). The rules are in fluxcull.past_marks."""

from __future__ import annotations

from fluxcull.cli.common import emit_json
from fluxcull.validate import int_option

SHOWN = 10  # skipped / conflicting photos listed by the text output (--json lists every one)


def register(sub) -> None:
    p = sub.add_parser(
        "import-marks",
        help="turn the ratings and flags read from XMP at ingest into keep / reject decisions",
        description="Past culling marks as training signal. Rejects (rating -1, a reject flag, digiKam's "
                    "Rejected) become reject decisions, which the keeper model learns from as near-misses; picks "
                    "(a pick flag, digiKam's Accepted) and, with --min-stars N, ratings of N stars or more become "
                    "keeps. A decision you made in fluxcull is never overridden (those photos are listed as "
                    "skipped). `fluxcull undo` takes the whole import back.",
    )
    p.add_argument("--rejects-as", choices=("near-miss", "ignore"), default="near-miss",
                   help="what a rejected photo becomes: a reject decision, a near-miss for the model (default), "
                        "or nothing")
    p.add_argument("--min-stars", type=int_option(1, 5), default=None, metavar="N",
                   help="a rating of N stars or more becomes a keep (default: ratings make no keeps)")
    p.add_argument("--as", dest="stars_as", choices=("keep",), default="keep",
                   help="what a rating of --min-stars or more becomes (keep)")
    p.add_argument("--dry-run", action="store_true", help="say what would be decided; change nothing")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args, lib) -> int:
    from fluxcull.catalog import Catalog
    from fluxcull.past_marks import Rules, import_marks

    rules = Rules(min_stars=args.min_stars, rejects=args.rejects_as == "near-miss")
    catalog = Catalog(lib.connect())
    try:
        s = import_marks(catalog, rules, dry_run=args.dry_run)
    finally:
        catalog.close()
    if args.json:
        emit_json(s)
        return 0
    verb = "would decide" if s["dry_run"] else "decided"
    print(f"{s['photos_with_marks']} photos with imported marks: {verb} {s['keep']} keep and {s['reject']} reject"
          f"{'' if s['dry_run'] or s['batch'] is None else ' (`fluxcull undo` takes them all back)'}")
    print(f"  already imported {s['already']}, no rule applies to {s['no_rule']}, "
          f"skipped {len(s['skipped'])} decided by you, {len(s['conflicting'])} conflicting")
    for what in ("skipped", "conflicting"):
        for item in s[what][:SHOWN]:
            print(f"  {what}: {item['path']}: {item['reason']}")
        if len(s[what]) > SHOWN:
            print(f"  ... and {len(s[what]) - SHOWN} more {what} (--json lists them all)")
    if s["dry_run"]:
        print("dry run: nothing was changed")
    return 0
