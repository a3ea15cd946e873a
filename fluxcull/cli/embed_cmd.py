"""`fluxcull embed`, `fluxcull backbones` and `fluxcull features PHOTO`."""

from __future__ import annotations

import math
import sys

from fluxcull.cli.common import drive, emit_json, require_positive
from fluxcull.library import Library
from fluxcull.validate import int_option


def register(sub) -> None:
    p = sub.add_parser(
        "embed",
        help="embed every photo with the backbone and compute its technical/metadata features",
        description="Give every photo in the catalog an embedding from the backbone (default "
                    "efficientnet_lite0, which works offline) and its technical and metadata features, then "
                    "bring the stacks of burst frames up to date (`fluxcull stacks`). "
                    "Incremental and resumable: only photos without them are done; a killed run continues "
                    "where it stopped.",
    )
    p.add_argument("--backbone", metavar="NAME", help="backbone name (see `fluxcull backbones`; "
                   "default: the library setting, else efficientnet_lite0)")
    p.add_argument("--runtime", choices=("auto", "torch", "torch-fp32", "onnx"), default="auto",
                   help="inference runtime (auto: ONNX Runtime on the CPU, torch on a GPU)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                   help="where the backbone runs (auto: CUDA, then Apple MPS, then the CPU)")
    p.add_argument("--role", choices=("originals", "keepers", "inbox"), help="only photos of this role")
    p.add_argument("--batch-size", type=int_option(1, 65536), metavar="N", help="photos per inference batch (default 32 CPU, 128 GPU)")
    p.add_argument("--threads", type=int_option(1, 4096), metavar="N",
                   help="CPU inference threads (default: all cores but one; also $FLUXCULL_THREADS)")
    p.add_argument("--workers", type=int_option(1, 4096), metavar="N", help="decode threads (default: all cores but one)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run_embed)

    b = sub.add_parser("backbones", help="list the image backbones and which one is active",
                       description="List the backbones embeddings can come from, whether each works offline "
                                   "on this machine, and how many photos each has embedded.")
    b.add_argument("--use", metavar="NAME", help="make NAME the library's backbone (checked to be available)")
    b.add_argument("--json", action="store_true", help="print the list as JSON")
    b.set_defaults(func=run_backbones)

    f = sub.add_parser("features", help="show the technical and metadata features of a photo")
    f.add_argument("photo", help="photo id or path")
    f.add_argument("--json", action="store_true", help="print as JSON")
    f.set_defaults(func=run_features)


def run_embed(args, lib: Library) -> int:
    from fluxcull.workflows import embed_and_stack_job

    require_positive(args, "batch_size", "threads", "workers")
    job = embed_and_stack_job(lib, backbone=args.backbone, role=args.role, runtime=args.runtime,
                              device=None if args.device == "auto" else args.device, batch_size=args.batch_size,
                              threads=args.threads, workers=args.workers)
    s = drive(job, quiet=args.json)
    if args.json:
        emit_json(s)
    else:
        print(f"{s['backbone']}: embedded {s['embedded']}, features {s['featured']}, "
              f"already done {s['skipped']}, failed {len(s['errors'])}")
        st = s["stacks"]
        print(f"  stacks: {st['stacks']} stacks of bursts ({st['stacked_photos']} photos); "
              f"{st['computed_groups']} of {st['groups']} session groups computed")
        t = s.get("timing")
        if t and s.get("runtime"):
            print(f"  {s.get('runtime')} on {s.get('device')}: {t['photos_per_s']} photos/s "
                  f"(decode {t['decode_ms_per_photo']} ms/photo on {t['workers']} threads, "
                  f"inference {t['infer_ms_per_photo']} ms/photo)")
        elif t:  # nothing needed the network: features measured again (a new feature schema) or nothing to do
            print(f"  features only: {t['photos_per_s']} photos/s (decode and measure {t['decode_ms_per_photo']}"
                  f" ms/photo on {t['workers']} threads)")
        for e in s["errors"]:
            print(f"  error: {e['path']}: {e['reason']}", file=sys.stderr)
    return 1 if s["errors"] else 0


def run_backbones(args, lib: Library) -> int:
    from fluxcull.catalog import settings
    from fluxcull.catalog.queries import embeddings_by_backbone
    from fluxcull.embedding.backbones import SETTING_KEY, get_backbone, list_backbones

    conn = lib.connect()
    try:
        if args.use:
            bb = get_backbone(args.use)
            bb.build()  # fails with a clear message when its weights cannot be had
            settings.put(conn, SETTING_KEY, bb.name)
        counts = embeddings_by_backbone(conn)
        active = settings.get(conn, SETTING_KEY)
        rows = []
        for bb in list_backbones():
            d = bb.describe()
            d["embedded"] = counts.get(bb.id, 0)
            if bb.int8:
                d["embedded_int8"] = counts.get(bb.with_precision("int8").id, 0)
            d["active"] = bb.name == active if active else d["default"]
            rows.append(d)
    finally:
        conn.close()
    if args.json:
        emit_json(rows)
        return 0
    for d in rows:
        mark = "*" if d["active"] else " "
        offline = "offline" if d["available_offline"] else "needs download" if d["installed"] else "not installed"
        int8 = f" (+{d['embedded_int8']} int8)" if d.get("embedded_int8") else ""
        print(f"{mark} {d['name']:<40} dim {d['dim'] or '?':>5}  {offline:<14} {d['embedded']:>7} embedded{int8}  "
              f"{d['description']}")
    return 0


def run_features(args, lib: Library) -> int:
    from fluxcull.catalog.queries import resolve_photo
    from fluxcull.embedding.features import FEATURE_NAMES, load_features

    conn = lib.connect()
    try:
        pid = resolve_photo(conn, args.photo)
        vec = load_features(conn, [pid])[0]
    finally:
        conn.close()
    values = {n: (None if math.isnan(v) else round(float(v), 5)) for n, v in zip(FEATURE_NAMES, vec)}
    if args.json:
        emit_json({"photo_id": pid, "features": values})
    else:
        for n, v in values.items():
            print(f"{n:<24} {'-' if v is None else v}")
    return 0
