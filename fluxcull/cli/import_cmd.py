"""`fluxcull import PATH... --role originals|keepers|inbox [--json] [--workers N] [--session-gap HOURS]
[--no-xmp] [--backbone NAME] [--batch-size N] [--threads N]`: `ingest` and `embed` in one pass."""

from __future__ import annotations

import sys

from fluxcull.cli.common import drive, emit_json, require_positive
from fluxcull.cli.ingest_cmd import add_ingest_arguments, print_summary
from fluxcull.library import Library
from fluxcull.validate import int_option


def register(sub) -> None:
    p = sub.add_parser(
        "import",
        help="ingest and embed photo folders in one pass (the fast first import of an archive)",
        description="What `fluxcull ingest` then `fluxcull embed` do, in one pass: each photo is read, hashed "
                    "and decoded once at reduced scale for its thumbnail, EXIF and XMP marks, technical "
                    "features and embedding; photos appear in the catalog as they are read and their "
                    "embeddings follow in batches. Stopped part way (Ctrl+C, kill), run it again: it goes on "
                    "where it stopped and ends as an uninterrupted run would. Then the stacks of the role "
                    "are brought up to date. The folders are never written to.",
    )
    add_ingest_arguments(p)
    p.add_argument("--backbone", metavar="NAME", help="backbone name (see `fluxcull backbones`; "
                   "default: the library setting, else efficientnet_lite0)")
    p.add_argument("--batch-size", type=int_option(1, 65536), metavar="N",
                   help="photos per inference batch (default 32 CPU, 128 GPU)")
    p.add_argument("--threads", type=int_option(1, 4096), metavar="N",
                   help="CPU inference threads (default: all cores but one; also $FLUXCULL_THREADS)")
    p.set_defaults(func=run)


def run(args, lib: Library) -> int:
    from fluxcull.workflows import import_photos_job

    require_positive(args, "workers", "batch_size", "threads")
    job = import_photos_job(lib, args.paths, args.role, workers=args.workers, session_gap_hours=args.session_gap,
                            xmp=args.xmp, backbone=args.backbone, batch_size=args.batch_size, threads=args.threads)
    s = drive(job, quiet=args.json)
    errors = s["ingest"]["errors"] + s["embed"]["errors"]
    if args.json:
        emit_json(s)
        return 1 if errors else 0
    print_summary(s["ingest"])
    e = s["embed"]
    print(f"  {e['backbone']}: embedded {e['embedded']}, features {e['featured']}"
          + (f" ({e['runtime']} on {e['device']})" if e.get("runtime") else ""))
    for x in s["embed"]["errors"]:
        print(f"  error: {x['path']}: features and embedding: {x['reason']}", file=sys.stderr)
    print(f"  {s['photos_per_s'] or 0:.1f} photos/s over {s['seconds']:.1f}s; stacks: {s['stacks']['stacks']} "
          f"stacks of bursts ({s['stacks']['stacked_photos']} photos)")
    return 1 if errors else 0
