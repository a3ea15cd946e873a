"""The `fluxcull` command line: one sub-command module per area, each with `register(sub)`.

Every command receives the parsed args and an open `Library`; it returns the exit status.
Exit status: 0 success, 1 finished but some items failed (named in the output), 2 usage or
fatal error a person can act on (one line: `fluxcull: error: ...`), 3 an unexpected error (a bug:
its traceback is printed and logged), 130 interrupted. See `fluxcull.cli.errors`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from fluxcull import __version__

COMMAND_MODULES = (
    "fluxcull.cli.ingest_cmd",   # ingest
    "fluxcull.cli.import_cmd",   # import (ingest + embed in one pass)
    "fluxcull.cli.query_cmd",    # status, photos, sessions
    "fluxcull.cli.filters_cmd",  # filters
    "fluxcull.cli.embed_cmd",    # embed, features
    "fluxcull.cli.match_cmd",    # match, review, link, unlink
    "fluxcull.cli.model_cmd",    # train, score, eval, explain, decide, prefer, undo
    "fluxcull.cli.rating_cmd",   # rate, label
    "fluxcull.cli.marks_cmd",    # import-marks
    "fluxcull.cli.doctor_cmd",   # doctor
    "fluxcull.cli.demo_cmd",     # demo
    "fluxcull.cli.gui_cmd",      # gui
    "fluxcull.cli.export_cmd",   # export xmp, export files
    "fluxcull.cli.draft_cmd",    # draft, drafts, draft-approve, draft-reopen, draft-history, draft-export
    "fluxcull.cli.sequence_cmd", # sequence
    "fluxcull.cli.insights_cmd", # rediscover, analytics, motifs
    "fluxcull.cli.desktop_cmd",  # install-desktop
    "fluxcull.cli.stacks_cmd",   # stacks
)

# Commands that only read the catalog: opened read-only (they work on a read-only library).
READ_ONLY = {"status", "photos", "sessions", "review", "features", "drafts", "draft-history", "draft-export",
             "rediscover"}
# Commands that may create a new library; every other one needs an existing library.
CREATES = {"ingest", "import", "embed", "backbones", "demo", "gui"}
# Commands that hold the library's job lock for their whole run (ingest, import and embed take it in their
# jobs, so the GUI's jobs hold it too).
LOCKED = {"match", "train", "score", "demo"}
# Commands that need no library at all: none is opened, resolved or created for them.
NO_LIBRARY = {"install-desktop"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fluxcull",
        description="Cull photos with a keeper model that learns your own taste.",
        epilog="Exit status: 0 done, 1 done but some files failed, 2 usage or fatal error, "
               "3 unexpected error (a bug: please report it with the log).",
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


def _writes(args) -> bool:
    cmd = args.command
    if cmd in READ_ONLY:
        return False
    if cmd == "models":
        return args.activate is not None
    if cmd == "backbones":
        return bool(args.use)
    if cmd == "doctor":
        return bool(args.repair)
    if cmd == "import-marks":
        return not args.dry_run
    if cmd == "filters":
        return args.save is not None or args.delete is not None
    if cmd == "stacks":
        return args.rebuild
    if cmd == "sequence":
        return args.apply
    return cmd not in ("eval", "explain")


def open_library(args):
    from fluxcull.library import ENV_VAR, Library

    if args.command in NO_LIBRARY:
        return None
    if args.command == "demo" and args.library is None and not os.environ.get(ENV_VAR):
        return None  # the demo opens its own library
    readonly = args.command in READ_ONLY or (args.command in ("doctor", "filters", "stacks", "sequence")
                                                and not _writes(args))
    return Library.open(args.library, create=args.command in CREATES, readonly=readonly)


def main(argv: list[str] | None = None) -> int:
    from fluxcull.cli.errors import check_text_args, report

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if args.command == "gui":
        from fluxcull.ui.qt_first import load_qt_first  # before the library opens (see there)

        load_qt_first()
    from fluxcull import logs

    logs.setup_stderr()
    lib = None
    try:
        check_text_args(args)
        lib = open_library(args)
        if lib is not None:
            logs.setup_file_logging(lib.root)
            logs.logging.getLogger("fluxcull.cli").info("run: %s", " ".join(sys.argv[1:] if argv is None else argv))
            if _writes(args):
                _housekeeping(lib)
        if args.command in LOCKED or (args.command == "models" and args.activate is not None) or \
                (args.command == "doctor" and args.repair):
            from fluxcull.joblock import job_lock

            with job_lock(lib) if lib is not None else _null():
                return int(args.func(args, lib) or 0)
        return int(args.func(args, lib) or 0)
    except BaseException as exc:  # noqa: BLE001 - every outcome is mapped to an exit status here
        return report(exc, lib)


def _housekeeping(lib) -> None:
    """Remove temp files left by interrupted runs (only while no job runs on the library)."""
    from fluxcull.doctor import clean_start
    from fluxcull.errors import FluxcullError
    from fluxcull.joblock import job_lock

    try:
        with job_lock(lib):
            clean_start(lib)
    except FluxcullError:
        pass  # a job is running (or the library is read-only): leave its files alone


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
