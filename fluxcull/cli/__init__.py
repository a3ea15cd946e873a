"""The `fluxcull` command line: one sub-command module per area, each with `register(sub)`.

Every command receives the parsed args and an open `Library`; it returns the exit status.
Exit status: 0 success, 1 finished but some items failed (named in the output), 2 usage or
fatal error.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from fluxcull import __version__

COMMAND_MODULES = (
    "fluxcull.cli.ingest_cmd",   # ingest
    "fluxcull.cli.query_cmd",    # status, photos, sessions
    "fluxcull.cli.embed_cmd",    # embed, features
    "fluxcull.cli.match_cmd",    # match, review, link, unlink
    "fluxcull.cli.model_cmd",    # train, score, eval, explain, decide, prefer, undo
    "fluxcull.cli.demo_cmd",     # demo
    "fluxcull.cli.gui_cmd",      # gui
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fluxcull",
        description="Cull photos with a keeper model that learns your own taste.",
    )
    parser.add_argument("--version", action="version", version=f"fluxcull {__version__}")
    parser.add_argument(
        "--library",
        metavar="DIR",
        help="library folder (default: $FLUXCULL_LIBRARY, else the user data directory)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # an area not built yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from fluxcull.library import Library

    try:
        lib = Library.open(args.library)
        return int(args.func(args, lib) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (KeyError, ValueError, LookupError, FileNotFoundError, PermissionError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"fluxcull: error: {msg}", file=sys.stderr)
        return 2
