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


ROLE_WORDS = {"originals": "originals", "keepers": "from the keeper archive", "inbox": "in the inbox"}
METHOD_WORDS = {"timestamp": "capture time", "filename": "camera file name", "sha256": "identical file",
                "similarity": "look", "manual": "by hand"}


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' * (n != 1)}"


def summary_lines(s: dict) -> list[str]:
    """The demo's outcome in sentences, then the model in the words `fluxcull eval` prints (the
    window's model panel): no raw summary, no metric table."""
    lines = [f"Demo library: {s['library']}"]
    photos, failed = [], 0
    for role in ("originals", "keepers", "inbox"):
        i = s.get(f"ingest_{role}") or {}
        n = sum(int(i.get(k) or 0) for k in ("added", "updated", "unchanged"))
        photos.append(f"{n:,} {ROLE_WORDS[role]}")
        failed += len(i.get("errors") or [])
    lines.append(f"  Photos: {', '.join(photos)}; "
                 + (f"{_plural(failed, 'file')} could not be read (the window's Problems filter lists them)."
                    if failed else "every file could be read."))
    e = s.get("embed") or {}
    if e.get("backbone"):
        lines.append(f"  Every photo embedded with {str(e['backbone']).split('@', 1)[0]}, the image network the "
                     "keeper model learns from.")
    st = s.get("stacks") or {}
    if st.get("stacks"):
        lines.append(f"  Stacked {_plural(int(st['stacks']), 'burst')} ({st.get('stacked_photos', 0)} frames): the grid "
                     "shows each as one cell, its best frame (S opens it, N surveys it).")
    m = s.get("match") or {}
    linked = m.get("linked") or {}
    n_linked = sum(linked.values()) if isinstance(linked, dict) else int(linked or 0)
    how = ", ".join(f"{n} by {METHOD_WORDS.get(k, k)}" for k, n in sorted(linked.items()) if n) \
        if isinstance(linked, dict) else ""
    review, unmatched = int(m.get("review") or 0), int(m.get("unmatched") or 0)
    lines.append(f"  Keeper archive: {_plural(n_linked, 'keeper')} linked to {'its' if n_linked == 1 else 'their'} "
                 f"original{'s' * (n_linked != 1)}" + (f" ({how})" if how else "")
                 + (f"; {review} to confirm in Model ▸ Keeper review" if review else "")
                 + (f"; {unmatched} without an original" if unmatched else "") + ".")
    d = s.get("decisions") or {}
    if d.get("rejected"):
        lines.append(f"  Rejected {_plural(int(d['rejected']), 'shaken frame')}, as a photographer reviewing "
                     "the first walks would.")
    t = s.get("train") or {}
    sc = t.get("scoring") or {}
    if isinstance(sc, dict) and sc.get("bands"):
        b = sc["bands"]
        lines.append(f"  Scored {sc.get('photos', 0):,} photos: {b.get('confirmed', 0)} keepers (1.0), "
                     f"{b.get('high', 0)} probable keepers (0.8+), {b.get('uncertain', 0)} uncertain (0.5–0.8), "
                     f"{b.get('low', 0)} probable non-keepers (below 0.5)"
                     + (f", {b['unscored']} not scored" if b.get("unscored") else "") + ".")
    if t:
        from fluxcull.cli.model_cmd import model_words_lines
        from fluxcull.workflows import model_quality

        lines.append("")
        lines += model_words_lines(model_quality(t))
    return lines


def _print_summary(s: dict) -> None:
    print("\n".join(summary_lines(s)))
