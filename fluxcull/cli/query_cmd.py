"""`fluxcull status`, `fluxcull photos`, `fluxcull sessions`: read the catalog (JSON or a table)."""

from __future__ import annotations

import argparse
import sys

from fluxcull.catalog.marks import effective as effective_marks
from fluxcull.catalog.marks import refused_sidecars
from fluxcull.catalog.queries import LABEL_FILTERS, ROLES, PhotoQuery, list_photos, list_sessions, status_counts
from fluxcull.catalog.ratings import MAX_STARS
from fluxcull.catalog.raw_jpeg_pairs import pairs_of
from fluxcull.cli.common import emit_json
from fluxcull.library import Library
from fluxcull.validate import int_option


def register(sub) -> None:
    p = sub.add_parser("status", help="counts by role and status, sessions, errors")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=run_status)

    p = sub.add_parser("photos", help="list photos with their metadata", epilog=WHERE_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--role", choices=ROLES)
    p.add_argument("--session", type=int_option(1), metavar="ID", help="only this session's photos")
    p.add_argument("--sort", choices=("time", "score"), default="time",
                   help="time: capture time, oldest first; score: keeper score, highest first")
    p.add_argument("--status", choices=("ok", "error", "missing", "all"), default="ok",
                   help="which photos (default ok)")
    p.add_argument("--min-stars", type=int_option(1, MAX_STARS), default=None, metavar="N",
                   help="only photos with at least N stars")
    p.add_argument("--label", choices=LABEL_FILTERS, default=None,
                   help="only photos with this colour label (any: one; none: without)")
    p.add_argument("--where", metavar="EXPR", help="only photos matching a filter expression (below)")
    p.add_argument("--filter", metavar="NAME", help="only photos matching a saved filter (`fluxcull filters`)")
    p.add_argument("--limit", type=int_option(0), default=None, metavar="N")
    p.add_argument("--offset", type=int_option(0), default=0, metavar="N")
    p.add_argument("--all-files", action="store_true",
                   help="list the RAW file of a RAW+JPEG pair too (by default a pair is one photo, its JPEG)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=run_photos)

    p = sub.add_parser("sessions", help="shooting sessions with their photo counts and keeper density")
    p.add_argument("--role", choices=ROLES)
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=run_sessions)


def run_status(args, lib: Library) -> int:
    conn = lib.connect()
    try:
        s = status_counts(conn)
        n, refused = refused_sidecars(conn)
        s["xmp_refused"] = {"count": n, "newest": refused}
    finally:
        conn.close()
    from fluxcull.joblock import holder
    from fluxcull.logs import current_log_path, log_path

    s["library"] = str(lib.root)
    s["log"] = str(current_log_path() or log_path(lib.root))
    s["job"] = holder(lib.root)
    if args.json:
        emit_json(s)
        return 0
    print(f"library: {lib.root}")
    print(f"log: {s['log']}")
    if s["job"]:
        print(f"running: PID {s['job'].get('pid')} ({s['job'].get('command')}) since {s['job'].get('since')}")
    print(f"{'role':<10} {'ok':>8} {'error':>7} {'missing':>8} {'sessions':>9}")
    for role in ROLES:
        r = s["by_role"][role]
        print(f"{role:<10} {r['ok']:>8} {r['error']:>7} {r['missing']:>8} {s['sessions'][role]:>9}")
    d = s["decisions"]
    print(f"decisions: {d['keep']} keep, {d['reject']} reject, {d['none']} undecided; {s['scored']} scored")
    if s["raw_jpeg_pairs"]:
        print(f"RAW+JPEG pairs: {s['raw_jpeg_pairs']} (each counted once, as its JPEG)")
    for e in s["errors"]:
        print(f"error: {e['path']}: {e['error']}")
    for w in refused:
        print(f"XMP sidecar not read: {w['sidecar']}: {w['warning']}")
    if n > len(refused):
        print(f"... and {n - len(refused)} more XMP sidecars not read (`fluxcull status --json` lists the newest)")
    return 0


WHERE_HELP = """filter expressions (--where, and saved filters): conditions joined by `and`, each FIELD OP VALUE
  text, name, camera, lens   ~ (contains, any letter case)     camera~fuji  lens~"85mm f/1.2"  name~IMG_12
  taken                      >= > < <= = a date or a period    taken>=2024-03-01  taken=2024-03  taken<=2024
  score                      >= > < <= = from 0 to 1            score>=0.6
  stars                      >= > < <= = from 0 to 5            stars>=3  stars=0 (none)
  stack                      >= > < <= = frames in its stack    stack>=2 (in a stack)  stack=1 (alone)
  decision, band, type, role = one value                       decision=keep  band=uncertain  type=raw
  label                      = a colour, any, none             label=green  label=any  label=none
  motif                      = a stored motif's id              motif=3 (`fluxcull motifs --list`)
  rediscover                 = yes                              rediscover=yes (`fluxcull rediscover`'s photos)
text searches the file name, camera and lens; name the file name (or the camera's own name); taken is
the capture time on the camera's clock (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS], each the
whole period); type is raw, jpeg, png, tiff or heif; label is red, yellow, green, blue, purple, any or
none; a photo not embedded yet has no stack. Quote values with spaces: camera~"GR III".
  fluxcull photos --where 'camera~fuji and taken>=2024-03-01 and taken<2024-04-01 and decision=keep'
  fluxcull photos --where 'stars>=3 and label=green and stack>=2'"""


def photo_query(conn, args) -> PhotoQuery:
    """The query of `photos`' options, its --where expression and its --filter (a saved filter)."""
    from fluxcull.catalog.filters import parse_where, query_from
    from fluxcull.catalog.saved_filters import get_filter

    base = {"role": args.role, "session_id": args.session, "sort": args.sort,
            "status": None if args.status == "all" else args.status, "files": args.all_files,
            "min_rating": args.min_stars, "label": args.label}
    if args.filter is not None:
        base = vars(query_from(get_filter(conn, args.filter)["expression"], **base))
    if args.where is not None:
        parse_where(args.where)  # a bad expression is named before anything else
        return query_from(args.where, **base)
    return PhotoQuery(**base)


def run_photos(args, lib: Library) -> int:
    if args.limit is not None and args.limit < 0:
        raise ValueError("--limit must not be negative")
    conn = lib.connect()
    try:
        q = photo_query(conn, args)
        rows = list_photos(conn, q, limit=args.limit, offset=args.offset)
        marks = effective_marks(conn, [r["id"] for r in rows]) if args.json else {}
        pairs = pairs_of(conn, [r["id"] for r in rows])
    finally:
        conn.close()
    for r in rows:  # a RAW+JPEG pair: both files' paths and ids, on either file
        r["imported_marks"] = marks.get(r["id"])
        r["pair"] = pairs.get(r["id"])
    if args.json:
        emit_json(rows)
        return 0
    _table(rows, [("id", 6), ("role", 9), ("taken_at", 25), ("camera_model", 18), ("keeper_score", 6),
                  ("decision", 6), ("rating", 5), ("color_label", 6), ("session_id", 5), ("path", 0)])
    return 0


def run_sessions(args, lib: Library) -> int:
    conn = lib.connect()
    try:
        rows = list_sessions(conn, args.role)
    finally:
        conn.close()
    if args.json:
        emit_json(rows)
        return 0
    _table(rows, [("id", 5), ("role", 9), ("start_at", 19), ("end_at", 19), ("photo_count", 6), ("keepers", 6),
                  ("keeper_density", 6), ("gps_lat", 10), ("gps_lon", 11)])
    return 0


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def _table(rows: list[dict], cols: list[tuple[str, int]], out=None) -> None:
    out = out or sys.stdout
    headers = {"photo_count": "photos", "keeper_score": "score", "session_id": "sess", "keeper_density": "dens",
               "camera_model": "camera", "decision": "dec", "rating": "stars", "color_label": "label"}
    line = []
    for name, width in cols:
        h = headers.get(name, name)
        line.append(h.ljust(width) if width else h)
    print(" ".join(line), file=out)
    for r in rows:
        cells = []
        for name, width in cols:
            c = _cell(r.get(name))
            cells.append(c[:width].ljust(width) if width else c)
        print(" ".join(cells), file=out)
    print(f"({len(rows)} rows)", file=out)
