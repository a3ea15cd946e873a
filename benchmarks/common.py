"""Shared benchmark helpers: timing, peak memory, and writing JSON plus a markdown table."""

from __future__ import annotations

import json
import platform
import resource
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_PHOTOS = (REPO_ROOT / ".." / "shared" / "photos").resolve()


@contextmanager
def timer() -> Iterator[dict]:
    box: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - t0


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def launch_env() -> dict[str, str]:
    """The environment for a child process whose launch time is measured (the window benchmarks):
    offscreen Qt, and fluxcull's and the benchmarks' bytecode compiled beforehand, as pip compiles an
    installed package. A source checkout run under PYTHONDONTWRITEBYTECODE (as here) would otherwise
    compile every fluxcull module at each launch, a cost no installed copy pays, and one that grows
    with the code rather than with anything the window does."""
    import compileall
    import os

    for pkg in ("fluxcull", "benchmarks"):
        compileall.compile_dir(str(REPO_ROOT / pkg), quiet=1)
    return dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}


def write_results(out_dir: Path, name: str, rows: list[dict], meta: dict | None = None, notes: str = "") -> dict:
    """Write <name>.json and <name>.md (a table of rows); return the JSON payload."""
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "machine": machine(), "meta": meta or {}, "rows": rows, "notes": notes}
    (out_dir / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str))
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    lines = [f"# {name}", ""]
    if notes:
        lines += [notes, ""]
    if rows:
        lines.append("| " + " | ".join(cols) + " |")
        lines.append("|" + "---|" * len(cols))
        for r in rows:
            lines.append("| " + " | ".join(_fmt(r.get(c, "")) for c in cols) + " |")
    (out_dir / f"{name}.md").write_text("\n".join(lines) + "\n")
    return payload


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
