"""Run the benchmarks: python -m benchmarks [NAME ...] [--quick] [--out DIR]."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

import benchmarks


def main(argv=None) -> int:
    names = sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("names", nargs="*", help=f"which to run (default all: {', '.join(names)})")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--out", default=str(Path(__file__).parent / "out"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    failed = []
    for name in args.names or names:
        if name not in names:
            ap.error(f"no benchmark {name!r}; have {', '.join(names)}")
        print(f"== {name}", flush=True)
        try:
            importlib.import_module(f"benchmarks.bench_{name}").run(out, args.quick)
            print((out / f"{name}.md").read_text(), flush=True)
        except Exception as exc:  # one failing benchmark must not hide the others' figures
            import traceback

            traceback.print_exc()
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
