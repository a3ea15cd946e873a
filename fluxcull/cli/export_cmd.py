"""`fluxcull export xmp` and `fluxcull export files`: decisions carried out of the catalog
(the jobs are in fluxcull.interop)."""

from __future__ import annotations

import sys

from fluxcull.catalog.queries import ROLES
from fluxcull.cli.common import drive, emit_json
from fluxcull.interop.files_plan import DECISIONS, LAYOUTS, MODES
from fluxcull.validate import float_option, int_option


def register(sub) -> None:
    p = sub.add_parser("export", help="carry decisions out: XMP sidecars, or the chosen photos into a folder",
                       description="Carry keeps, rejects and keeper scores out of fluxcull.")
    what = p.add_subparsers(dest="export_what", metavar="WHAT", required=True)

    x = what.add_parser(
        "xmp", help="write each photo's decision, stars, colour label and keeper score into XMP sidecars",
        description="Write keep / reject as xmp:Rating, xmp:Label, xmpDM:pick and digiKam:PickLabel, a photo's "
        "stars as xmp:Rating and its colour label as xmp:Label and digiKam:ColorLabel, and the "
        "keeper score and band in the fluxcull: namespace. Existing sidecars are merged (every other field kept) "
        "and backed up in LIBRARY/export/backup. By default into the mirror folder LIBRARY/export/xmp; your photo "
        "folders are written only with --dest sidecar.")
    _selection(x)
    g = x.add_mutually_exclusive_group()
    g.add_argument("--decided", dest="all", action="store_false",
                   help="only photos marked keep or reject, or given stars or a colour label (the default)")
    g.add_argument("--all", dest="all", action="store_true",
                   help="every photo: undecided ones get their score, band and digiKam's 'pending'")
    x.add_argument("--dest", metavar="sidecar|mirror|DIR", default=None,
                   help="sidecar: beside the photos (writes into your photo folders); mirror: LIBRARY/export/xmp "
                   "(the default, or the export.xmp setting); DIR: a mirror in that folder")
    x.add_argument("--stars", type=int_option(1, 5), metavar="N", help="stars of a keep (default 3, or the setting)")
    x.add_argument("--keep-label", metavar="TEXT", help="xmp:Label of a keep (default Green; '' for none)")
    x.add_argument("--reject-label", metavar="TEXT", help="xmp:Label of a reject (default Red; '' for none)")
    x.add_argument("--dry-run", action="store_true", help="say what would be written; write nothing")
    x.add_argument("--json", action="store_true", help="print the summary as JSON")
    x.set_defaults(func=cmd_export_xmp, all=False)

    f = what.add_parser(
        "files", help="copy, link or list the chosen photos into a folder, with a list and a CSV",
        description="Put the chosen photos into DEST (never overwriting a file there; copies verified by "
        "SHA-256) and write fluxcull-selection.txt and fluxcull-selection.csv into DEST. A second run "
        "skips what is already there.")
    f.add_argument("--decision", choices=DECISIONS, default="keep", help="which photos (default keep)")
    f.add_argument("--min-score", type=float_option(0.0, 1.0), metavar="S", help="only photos scoring S or more")
    f.add_argument("--dest", required=True, metavar="DIR", help="the folder to fill (not among your photos)")
    f.add_argument("--mode", choices=MODES, default="copy", help="copy (default), hardlink, symlink, or list only")
    f.add_argument("--layout", choices=LAYOUTS, default="flat",
                   help="flat (default), date (YYYY/YYYY-MM-DD), session (YYYY-MM-DD_session-ID)")
    _selection(f)
    f.add_argument("--dry-run", action="store_true", help="say what would be done; write nothing")
    f.add_argument("--json", action="store_true", help="print the summary as JSON")
    f.set_defaults(func=cmd_export_files)


def _selection(p) -> None:
    p.add_argument("--role", choices=ROLES, help="only this role's photos")
    p.add_argument("--session", type=int_option(1), metavar="ID", help="only this session's photos")


def cmd_export_xmp(args, lib) -> int:
    from fluxcull.interop.export_xmp import export_xmp_job

    s = drive(export_xmp_job(lib, dest=args.dest, role=args.role, session_id=args.session, decided_only=not args.all,
                             dry_run=args.dry_run, keep_rating=args.stars, keep_label=args.keep_label,
                             reject_label=args.reject_label), quiet=args.json)
    if args.json:
        emit_json(s)
    else:
        where = "beside the photos" if s["destination"] == "sidecar" else f"into {s['folder']}"
        verb = "would write" if s["dry_run"] else "written"
        print(f"export xmp: {s['photos']} photos, {s['sidecars']} sidecars {where}")
        print(f"{verb} {s['written']}, unchanged {s['unchanged']}, skipped {len(s['skipped'])}, "
              f"errors {len(s['errors'])}" + ("  (dry run: nothing written)" if s["dry_run"] else ""))
        _problems(s)
        if s["backups"]:
            print(f"replaced sidecars backed up in {s['backups']}")
    return 1 if s["skipped"] or s["errors"] else 0


def cmd_export_files(args, lib) -> int:
    from fluxcull.interop.export_files import export_files_job

    s = drive(export_files_job(lib, args.dest, decision=args.decision, min_score=args.min_score, mode=args.mode,
                               layout=args.layout, role=args.role, session_id=args.session, dry_run=args.dry_run),
              quiet=args.json)
    if args.json:
        emit_json(s)
    else:
        verb = {"copy": "copied", "hardlink": "linked", "symlink": "linked", "list": "listed"}[s["mode"]]
        if s["dry_run"]:
            verb = f"would be {verb}"
        print(f"export files: {s['photos']} photos ({s['decision']}) -> {s['dest']} ({s['mode']}, {s['layout']})")
        print(f"{verb} {s['placed']}, already there {s['present']}, renamed {len(s['renamed'])}, "
              f"errors {len(s['errors'])}" + ("  (dry run: nothing written)" if s["dry_run"] else ""))
        for r in s["renamed"][:20]:
            print(f"renamed: {r['path']} -> {r['as']}")
        _problems(s)
        if s["list"]:
            print(f"list: {s['list']}\ncsv: {s['csv']}")
    return 1 if s["errors"] else 0


def _problems(s: dict) -> None:
    for kind in ("skipped", "errors"):
        for e in s.get(kind, []):
            print(f"{'error' if kind == 'errors' else 'skipped'}: {e['path']}: {e['reason']}", file=sys.stderr)
