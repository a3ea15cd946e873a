"""`fluxcull demo`: build the demo library, run the whole loop, open the app on it."""

from __future__ import annotations

import os
import sys

from fluxcull.cli.common import drive, emit_json
from fluxcull.library import Library, default_library_dir


def register(sub) -> None:
    p = sub.add_parser("demo", help="build the demo library, run ingest/match/embed/train/score, open the app")
    p.add_argument("--no-gui", action="store_true", help="run the loop and print the summary only")
    p.add_argument("--rebuild", action="store_true", help="regenerate the demo folders")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))


def run(args, lib: Library) -> int:
    if lib is None:
        # The demo never mixes into the photographer's own library.
        lib = Library.open(default_library_dir().parent / "demo-library")
        from fluxcull import logs

        logs.setup_file_logging(lib.root)
    from fluxcull.demo.loop import demo_job

    summary = drive(demo_job(lib, rebuild=args.rebuild), quiet=args.json)
    if args.json:
        emit_json(summary)
    else:
        _print_summary(summary)
    if args.no_gui:
        return 0
    if not _has_display():
        print(f"\nNo display here: open the app later with  fluxcull --library '{lib.root}' gui")
        return 0
    from fluxcull.ui.app import run_app

    return run_app(lib)


def _print_summary(s: dict) -> None:
    print(f"demo library: {s['library']}")
    for role in ("originals", "keepers", "inbox"):
        i = s[f"ingest_{role}"]
        print(f"  ingest {role:<9}: {i.get('added', 0)} added, {i.get('unchanged', 0)} unchanged,"
              f" {len(i.get('errors', []))} errors")
    e = s["embed"]
    print(f"  embed           : {e.get('embedded')} embedded with {e.get('backbone')}")
    m = s["match"]
    print(f"  match           : {m.get('linked')} linked, {m.get('review')} to review, {m.get('unmatched')} unmatched")
    print(f"  decisions       : {s['decisions']}")
    t = s["train"]
    print(f"  train           : model {t.get('version')} activated={t.get('activated')}")
    if t.get("metrics_table"):
        from fluxcull.keeper.evaluate import format_table

        print(format_table(t["metrics_table"]))
    print(f"  score           : {t.get('scoring')}")
