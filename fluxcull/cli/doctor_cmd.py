"""`fluxcull doctor [--repair] [--json]`: check the library; with --repair fix what is safe to fix."""

from __future__ import annotations

from contextlib import closing

from fluxcull.cli.common import emit_json


def register(sub) -> None:
    p = sub.add_parser(
        "doctor", help="check the catalog, embedding stores, caches and temp files (and repair them)",
        description="Run PRAGMA integrity_check on the catalog, compare every embedding store with its index "
                    "(file size and per-row checksums), verify the ONNX cache against its recorded hash and look "
                    "for temp files left by interrupted runs. With --repair: drop the index rows of damaged "
                    "vectors (the next `fluxcull embed` computes them again), remove a damaged ONNX cache and "
                    "orphan temp files. Exit 0 when all is well, 1 when problems remain.")
    p.add_argument("--repair", action="store_true", help="fix what can be fixed safely")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args, lib) -> int:
    from fluxcull.doctor import check_library
    from fluxcull.errors import CatalogError

    try:
        conn = lib.connect()
    except CatalogError as exc:
        return _unopenable(args, lib, exc)
    with closing(conn):
        report = check_library(lib, conn, repair=args.repair)
        if args.repair:
            after = check_library(lib, conn)
            report["remaining"] = after["problems"]
    remaining = report["remaining"] if args.repair else report["problems"]
    if args.json:
        emit_json(report)
        return 1 if remaining else 0
    c = report["catalog"]
    print(f"library: {report['library']}")
    print(f"catalog: integrity {'ok' if c['ok'] else 'DAMAGED: ' + '; '.join(c['integrity_check'][:3])}, "
          f"schema {c['schema']} (this fluxcull knows {c['schema_known']}), backups: {', '.join(c['backups']) or 'none'}")
    for s in report["stores"]:
        state = "ok" if s["ok"] else (f"DAMAGED: {s['missing_rows']} rows missing from the file, "
                                      f"{s['bad_checksums']} checksum mismatches")
        print(f"embeddings {s['backbone']}: {s['rows']} rows, {state}"
              + (f" ({s['unverified']} stored before checksums)" if s["unverified"] else ""))
        if s.get("repaired"):
            r = s["repaired"]
            print(f"  repaired: dropped {r['dropped_rows']} rows, added {r['checksums_added']} checksums. {r['next']}")
    for o in report["onnx_cache"]:
        print(f"onnx cache {o['file']}: {o['reason']}" + (f" -- {o['repaired']}" if o.get("repaired") else ""))
    t = report["temp_files"]
    print(f"temp files left by interrupted runs: {t['count']}" + (f" (removed {t['removed']})" if "removed" in t else ""))
    for f in t["found"][:10]:
        print(f"  {f}")
    if report["job"]["running"]:
        h = report["job"]["holder"] or {}
        print(f"a job is running: PID {h.get('pid')} ({h.get('command')}) since {h.get('since')}")
    if report["log"]:
        print(f"log: {report['log']}")
    if remaining:
        print("problems: " + ", ".join(remaining) + ("" if args.repair else " (run `fluxcull doctor --repair`)"))
        return 1
    print("no problems found" if not args.repair or not report["problems"] else "repaired")
    return 0


def _unopenable(args, lib, exc) -> int:
    """The catalog cannot be opened at all: say why and how to restore a backup (never done for you:
    a backup lacks the decisions made since it was taken)."""
    from fluxcull.catalog.db import list_backups

    backups = sorted(list_backups(lib.catalog_path), key=lambda p: int(p.name.rsplit("-", 1)[1]))
    report = {"library": str(lib.root), "catalog": {"ok": False, "error": str(exc),
                                                    "backups": [p.name for p in backups]},
              "problems": ["catalog"]}
    if args.json:
        emit_json(report)
        return 1
    print(f"library: {lib.root}")
    print(f"catalog: cannot be opened: {exc}")
    if backups:
        print(f"backups: {', '.join(p.name for p in backups)}; to go back to the newest (decisions made since "
              f"it was taken are lost): move catalog.sqlite aside, then copy {backups[-1].name} to catalog.sqlite")
    else:
        print("no backups of this catalog: keep the damaged file, and ingest into a new library to start again")
    return 1
