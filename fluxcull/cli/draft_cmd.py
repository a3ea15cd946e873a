"""`fluxcull draft`, `drafts`, `draft-approve`, `draft-reopen`, `draft-history`, `draft-export`: issue
drafts the keeper model proposes and the photographer approves (the rules are in
fluxcull.insights.draft; `fluxcull sequence` orders them, fluxcull.cli.sequence_cmd)."""

from __future__ import annotations

from fluxcull.catalog.drafts import DRAFT_SIZE, STRONG_SCORE
from fluxcull.cli.common import emit_json
from fluxcull.validate import float_option, int_option


def register(sub) -> None:
    p = sub.add_parser(
        "draft", help="propose an issue draft: N strong photos, diverse, in sequence",
        description="Propose a draft of N photos scoring at least --min-score: chosen by keeper score with "
        "diversity (one frame per burst, at most draft.per_session per session, no two photos more alike than "
        "draft.rule's max_similarity; maximal marginal relevance over embeddings), ordered by capture time. "
        "Stored as 'proposed' until you approve it (fluxcull draft-approve ID).")
    p.add_argument("--size", type=int_option(1, 10000), default=DRAFT_SIZE, metavar="N",
                   help=f"photos in the draft ({DRAFT_SIZE})")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="only photos taken on or after DATE (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="only photos taken on or before DATE (YYYY-MM-DD)")
    p.add_argument("--session", type=int_option(1), action="append", metavar="ID",
                   help="only photos of this session (repeatable)")
    p.add_argument("--min-score", type=float_option(0.0, 1.0), default=STRONG_SCORE, metavar="S",
                   help=f"a strong candidate scores at least S ({STRONG_SCORE:g})")
    p.add_argument("--exclude-used", action="store_true", help="leave out photos already in an approved draft")
    p.add_argument("--json", action="store_true", help="print the draft as JSON")
    p.set_defaults(func=cmd_draft)

    ls = sub.add_parser("drafts", help="list issue drafts", description="List the issue drafts, newest first.")
    ls.add_argument("--json", action="store_true", help="print them as JSON")
    ls.set_defaults(func=cmd_drafts)

    for name, short, description, func in (
            ("draft-approve", "approve a proposed draft",
             "Approve a proposed issue draft: the photographer's explicit word.", cmd_approve),
            ("draft-reopen", "make an approved draft a proposal again, to change it",
             "Re-open an approved issue draft: it becomes a proposal again, which the Drafts view and "
             "`fluxcull sequence --apply` may change; approve it again when done.", cmd_reopen),
            ("draft-history", "how a draft came to be: proposal, changes, approvals",
             "A draft's history, oldest first: proposed, reordered, sequenced, removed, swapped, approved, "
             "reopened, each with its time and detail.", cmd_history)):
        one = sub.add_parser(name, help=short, description=description)
        one.add_argument("id", type=int_option(1), metavar="ID")
        one.add_argument("--json", action="store_true", help="print the result as JSON")
        one.set_defaults(func=func)

    e = sub.add_parser("draft-export", help="a draft as a contact-sheet PDF, a CSV, or its photos in a folder",
                       description="Carry a draft out: --pdf FILE (contact sheet with date, place and score "
                       "captions), --csv FILE, or --dest DIR (photos copied or linked as NN_name, in sequence).")
    e.add_argument("id", type=int_option(1), metavar="ID")
    what = e.add_mutually_exclusive_group(required=True)
    what.add_argument("--pdf", metavar="FILE", help="write a contact sheet")
    what.add_argument("--csv", metavar="FILE", help="write position, photo_id, path, date, place, score, session_id")
    what.add_argument("--dest", metavar="DIR", help="put the photos into DIR (not among your photos)")
    e.add_argument("--mode", choices=("copy", "symlink"), default="copy", help="with --dest: copy (default) or symlink")
    e.add_argument("--json", action="store_true", help="print the result as JSON")
    e.set_defaults(func=cmd_export)


def cmd_draft(args, lib) -> int:
    from fluxcull.embedding.store import current_store
    from fluxcull.insights.draft import parse_date, propose

    conn = lib.connect()
    try:
        res = propose(conn, current_store(lib, conn), size=args.size, min_score=args.min_score,
                      start=parse_date(args.date_from), end=parse_date(args.date_to, end=True),
                      sessions=args.session, exclude_used=args.exclude_used)
    finally:
        conn.close()
    if args.json:
        emit_json(res)
    elif res["draft"] is None:
        print(f"no draft: {res['missing']} photos missing ({res['reason']})")
    else:
        print(f"draft {res['draft']} proposed: {len(res['items'])} photos from {res['candidates']} candidates "
              f"(approve with `fluxcull draft-approve {res['draft']}`)")
        for it in res["items"]:
            print(f"{it['position']:3d}. photo {it['photo_id']}  score {it['score']:.3f}  session {it['session_id']}")
    return 0 if res["draft"] is not None else 1


def cmd_drafts(args, lib) -> int:
    from fluxcull.catalog import drafts

    conn = lib.connect()
    try:
        rows = drafts.list_drafts(conn)
    finally:
        conn.close()
    if args.json:
        emit_json(rows)
        return 0
    if not rows:
        print("no drafts yet: `fluxcull draft` proposes one")
    for d in rows:
        extra = f", approved {d['approved_at']}" if d["approved_at"] else ""
        print(f"draft {d['id']}: {d['size']} photos, {d['status']} (proposed {d['created_at']}{extra})")
    return 0


def cmd_approve(args, lib) -> int:
    return _set_status(args, lib, "approve")


def cmd_reopen(args, lib) -> int:
    return _set_status(args, lib, "reopen")


def _set_status(args, lib, change: str) -> int:
    """Approve or re-open a draft: {id, status, approved_at, changed}."""
    from fluxcull.catalog import drafts
    from fluxcull.insights.draft_export import load

    conn = lib.connect()
    try:
        load(conn, args.id)
        changed = drafts.approve(conn, args.id) if change == "approve" else drafts.reopen(conn, args.id)
        d = load(conn, args.id)
    finally:
        conn.close()
    out = {"id": d["id"], "status": d["status"], "approved_at": d["approved_at"], "changed": changed}
    if args.json:
        emit_json(out)
    elif change == "approve":
        print(f"draft {d['id']} approved" + ("" if changed else " already") + f" ({d['approved_at']})")
    else:
        print(f"draft {d['id']} " + ("re-opened: a proposal again" if changed else "was a proposal already"))
    return 0


def cmd_history(args, lib) -> int:
    from fluxcull.catalog import drafts
    from fluxcull.insights.draft_export import load

    conn = lib.connect()
    try:
        load(conn, args.id)
        events = drafts.history(conn, args.id)
    finally:
        conn.close()
    if args.json:
        emit_json(events)
        return 0
    for e in events:
        detail = ", ".join(f"{k} {v}" for k, v in sorted(e["detail"].items()) if k not in ("before", "order"))
        print(f"{e['at']}  {e['kind']}" + (f" ({detail})" if detail else ""))
    return 0


def cmd_export(args, lib) -> int:
    from fluxcull.insights import draft_export

    kind, path = ("pdf", args.pdf) if args.pdf else ("csv", args.csv) if args.csv else ("files", args.dest)
    conn = lib.connect()
    try:
        out = draft_export.export(lib, conn, args.id, kind, path, args.mode)
    finally:
        conn.close()
    if args.json:
        emit_json(out)
    else:
        if out["status"] != "approved":
            print(f"note: draft {out['draft']} is only proposed "
                  f"(approve it with `fluxcull draft-approve {out['draft']}`)")
        if out["format"] == "files":
            print(f"{out['written']} photos {out['mode']} into {out['folder']}, {len(out['skipped'])} already "
                  f"there, {len(out['errors'])} errors")
        else:
            print(f"draft {out['draft']} written to {out['path']}")
    return 1 if out.get("errors") else 0
