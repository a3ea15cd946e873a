"""`fluxcull ingest PATH... --role originals|keepers|inbox [--json] [--workers N] [--session-gap HOURS]
[--no-xmp]`."""

from __future__ import annotations

import sys

from fluxcull.catalog.queries import ROLES
from fluxcull.cli.common import drive, emit_json, require_positive
from fluxcull.library import Library
from fluxcull.validate import float_option, int_option


def register(sub) -> None:
    p = sub.add_parser(
        "ingest",
        help="add photo folders to the catalog (hash, EXIF, thumbnails, sessions)",
        description="Scan files and folders recursively for photos (JPEG, PNG, TIFF, HEIC/HEIF, camera RAW) "
                    "and record them in the catalog under a role. Re-running is incremental: unchanged files "
                    "(same size and modification time) are not read again. The culling marks of XMP sidecars "
                    "(IMG_1234.xmp, IMG_1234.CR2.xmp) and of the XMP embedded in the files are read as imported "
                    "marks (see `fluxcull import-marks`). The folders are never written to.",
    )
    add_ingest_arguments(p)
    p.set_defaults(func=run)


def add_ingest_arguments(p) -> None:
    """The arguments `ingest` and `import` share: paths, role, --json, --workers, --session-gap, --no-xmp."""
    p.add_argument("paths", nargs="+", metavar="PATH", help="photo files or folders (recursive)")
    p.add_argument("--role", required=True, choices=ROLES, help="what these photos are")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--workers", type=int_option(1, 4096), default=None, metavar="N",
                   help="worker processes (default: every core)")
    p.add_argument("--session-gap", type=float_option(0, 24 * 366, lo_open=True), default=2.0, metavar="HOURS",
                   help="a gap in capture time longer than this starts a new session (default 2)")
    p.add_argument("--no-xmp", dest="xmp", action="store_false",
                   help="do not read XMP sidecars or embedded XMP marks (ratings, flags, labels, keywords)")


def run(args, lib: Library) -> int:
    from fluxcull.ingest import ingest_job

    require_positive(args, "workers")
    job = ingest_job(lib, args.paths, args.role, workers=args.workers, session_gap_hours=args.session_gap,
                     xmp=args.xmp)
    summary = drive(job, quiet=args.json)
    from fluxcull.workflows import place_sessions

    summary["places"] = place_sessions(lib)
    if args.json:
        emit_json(summary)
    else:
        print_summary(summary)
    return 1 if summary["errors"] else 0


def print_summary(s: dict, out=None) -> None:
    out = out or sys.stdout
    mb = s["bytes"] / 1e6
    rate = f", {mb / s['seconds']:.1f} MB/s" if s["seconds"] > 0 and mb else ""
    print(f"{s['role']}: {s['scanned']} photos scanned in {s['seconds']:.1f}s{rate}", file=out)
    print(f"  added {s['added']}, updated {s['updated']} (moved {s['moved']}), unchanged {s['unchanged']}, "
          f"missing {s['missing']}, not photos {s['skipped']}, sessions {s['sessions']}", file=out)
    x = s.get("xmp")
    if x:
        print(f"  XMP: {x['sidecars']} sidecars and {x['embedded']} embedded packets read, {x['marks']} photos "
              f"with marks, {x['warnings']} refused", file=out)
    if s.get("raw_jpeg_pairs"):
        print(f"  {s['raw_jpeg_pairs']} RAW+JPEG pairs (each one photo)", file=out)
    if s["known_errors"]:
        print(f"  {s['known_errors']} unchanged files still fail (see `fluxcull status`)", file=out)
    for w in s["warnings"]:
        print(f"  warning: {w['path']}: {w['reason']}", file=out)
    for e in s["errors"]:
        print(f"  error: {e['path']}: {e['reason']}", file=out)
    if s["errors"]:
        print(f"{len(s['errors'])} files failed; everything else was ingested.", file=out)
