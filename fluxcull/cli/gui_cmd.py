"""`fluxcull gui`: open the culling window."""

from __future__ import annotations

from fluxcull.catalog.queries import ROLES
from fluxcull.validate import int_option


def register(sub) -> None:
    p = sub.add_parser("gui", help="open the culling window (thumbnail grid, loupe, compare, survey, retrain)")
    p.add_argument("--session", type=int_option(1), metavar="ID", help="open on this session (see `fluxcull sessions`)")
    p.add_argument("--role", choices=ROLES, help="open on the photos of this role (e.g. inbox)")
    p.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window to PNG and quit")
    p.add_argument("--view", choices=("grid", "loupe", "compare", "survey", "drafts", "analytics", "motifs",
                                      "rediscover"), default="grid",
                   help="with --screenshot: the view to capture (default grid; drafts: the Drafts view on the "
                   "newest draft; analytics, motifs, rediscover: those windows; windows of their own)")
    p.add_argument("--where", metavar="EXPR", help="open with the filter bar set to a filter expression "
                   "(see `fluxcull photos --help`)")
    p.add_argument("--filter", metavar="NAME", help="open on a saved filter (see `fluxcull filters`)")
    p.set_defaults(func=run)


def run(args, lib) -> int:
    try:
        from fluxcull.ui.app import run_app
    except ImportError as exc:  # PySide6 missing or no Qt platform libraries
        raise LookupError(f"the desktop app cannot start: {exc}") from exc
    if args.where is not None:
        from fluxcull.catalog.filters import parse_where

        parse_where(args.where)  # a bad expression is named before the window opens
    return run_app(lib, initial_role=args.role, initial_session=args.session, screenshot=args.screenshot,
                   view=args.view, where=args.where, saved_filter=args.filter)
