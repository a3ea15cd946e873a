"""Keeper links in the catalog: a person's link / unlink, the review queue, the matching summary.

Manual decisions are `keeper_links` rows with manual = 1 (method 'manual'; original_id NULL for
"this keeper has no original") and a 'link' / 'unlink' event in the decision log
(photo_id = the keeper, other_photo_id = the original). Automatic runs never touch them.

A link with needs_review = 0 makes its original a confirmed keeper: keeper_score = 1.0 (README,
"How it fits together"). When an original loses its last confirmed link, a score of 1.0 that only
the link gave it is cleared (NULL: unscored until the keeper model scores it again); both through
`fluxcull.catalog.score_writes.sync_confirmed_scores`, the one writer of keeper_score.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Iterable

from fluxcull.catalog.db import transaction
from fluxcull.catalog.keepers import confirmed_keeper_ids
from fluxcull.catalog.raw_jpeg_pairs import unit_of
from fluxcull.catalog.score_writes import sync_confirmed_scores

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


def _photo(conn: sqlite3.Connection, pid: int) -> sqlite3.Row:
    row = conn.execute("SELECT id, path, role, sha256 FROM photos WHERE id = ?", (int(pid),)).fetchone()
    if row is None:
        raise KeyError(f"no photo with id {pid}")
    return row


def _set_manual(conn, keeper: sqlite3.Row, original_id: int | None, evidence: dict, status_reason: str) -> None:
    keeper_id = keeper["id"]
    conn.execute(
        "INSERT INTO keeper_links(keeper_id, original_id, method, evidence, similarity, needs_review, manual)"
        " VALUES (?, ?, 'manual', ?, NULL, 0, 1)"
        " ON CONFLICT(keeper_id) DO UPDATE SET original_id = excluded.original_id, method = 'manual',"
        f" evidence = excluded.evidence, similarity = NULL, needs_review = 0, manual = 1, created_at = {_NOW}",
        (keeper_id, original_id, json.dumps(evidence)),
    )
    conn.execute(
        "INSERT INTO keeper_match_state(keeper_id, status, keeper_sha256, corpus_sig, reason, candidates)"
        " VALUES (?, 'manual', ?, NULL, ?, NULL)"
        " ON CONFLICT(keeper_id) DO UPDATE SET status = 'manual', keeper_sha256 = excluded.keeper_sha256,"
        f" reason = excluded.reason, matched_at = {_NOW}",
        (keeper_id, keeper["sha256"], status_reason),
    )


def link(conn: sqlite3.Connection, keeper_id: int, original_id: int, *, source: str = "cli") -> dict:
    """A person links a keeper to its original; logged, and kept by every later automatic run. The
    RAW file of a RAW+JPEG pair stands for its pair: the link goes to the pair's JPEG."""
    with transaction(conn):
        original_id = unit_of(conn, original_id)
        k, o = _photo(conn, keeper_id), _photo(conn, original_id)
        if k["role"] != "keepers":
            raise ValueError(f"{k['path']}: not in the keeper archive (role {k['role']}); link KEEPER ORIGINAL")
        if o["role"] != "originals":
            raise ValueError(f"{o['path']}: not an original (role {o['role']}); link KEEPER ORIGINAL")
        prev = conn.execute("SELECT * FROM keeper_links WHERE keeper_id = ?", (keeper_id,)).fetchone()
        previous = None
        if prev is not None:
            previous = {"original_id": prev["original_id"], "method": prev["method"],
                        "manual": bool(prev["manual"]), "needs_review": bool(prev["needs_review"])}
        _set_manual(conn, k, original_id, {"previous": previous}, "linked by hand")
        conn.execute(
            "INSERT INTO decision_events(photo_id, kind, other_photo_id, previous, source, detail)"
            " VALUES (?, 'link', ?, ?, ?, ?)",
            (keeper_id, original_id, None if prev is None or prev["original_id"] is None else str(prev["original_id"]),
             source, json.dumps({"previous": previous})),
        )
        sync_confirmed_scores(conn, [original_id, prev["original_id"] if prev is not None else None])
    return {"keeper_id": keeper_id, "keeper": k["path"], "original_id": original_id, "original": o["path"],
            "previous": previous}


def unlink(conn: sqlite3.Connection, keeper_id: int, *, source: str = "cli") -> dict:
    """A person says this keeper has no original in the catalog (or that the link was wrong)."""
    with transaction(conn):
        k = _photo(conn, keeper_id)
        if k["role"] != "keepers":
            raise ValueError(f"{k['path']}: not in the keeper archive (role {k['role']})")
        prev = conn.execute("SELECT * FROM keeper_links WHERE keeper_id = ?", (keeper_id,)).fetchone()
        prev_orig = prev["original_id"] if prev is not None else None
        previous = None if prev is None else {"original_id": prev_orig, "method": prev["method"],
                                              "manual": bool(prev["manual"])}
        _set_manual(conn, k, None, {"unlinked": previous}, "no original (decided by hand)")
        conn.execute(
            "INSERT INTO decision_events(photo_id, kind, other_photo_id, previous, source, detail)"
            " VALUES (?, 'unlink', ?, ?, ?, ?)",
            (keeper_id, prev_orig, None if prev_orig is None else str(prev_orig), source,
             json.dumps({"previous": previous})),
        )
        sync_confirmed_scores(conn, [prev_orig])
    return {"keeper_id": keeper_id, "keeper": k["path"], "previous": previous}


def _paths(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, str]:
    ids = sorted({int(i) for i in ids if i is not None})
    out: dict[int, str] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        out.update(conn.execute(f"SELECT id, path FROM photos WHERE id IN ({','.join('?' * len(chunk))})", chunk))
    return out


def _candidates(raw: str | None, paths: dict[int, str]) -> list[dict]:
    cands = json.loads(raw) if raw else []
    for c in cands:
        c["original"] = paths.get(c["original_id"])
    return cands


def review_queue(conn: sqlite3.Connection) -> list[dict]:
    """Keepers a person should look at: links proposed for review, then unmatched keepers.

    Each entry: keeper_id, keeper (path), status ('review' or 'unmatched'), reason, proposed
    (the proposed original: original_id, original, method, similarity, evidence; or None where
    several originals are equally plausible), candidates (best originals considered, with their
    similarity and the signals that point at them).
    """
    rows = conn.execute(
        "SELECT s.keeper_id, s.status, s.reason, s.candidates, p.path,"
        " l.original_id, l.method, l.similarity, l.evidence"
        " FROM keeper_match_state s JOIN photos p ON p.id = s.keeper_id"
        " LEFT JOIN keeper_links l ON l.keeper_id = s.keeper_id AND l.manual = 0"
        " WHERE s.status IN ('review', 'unmatched')"
        " ORDER BY s.status = 'unmatched', p.path"
    ).fetchall()
    ids = [r["original_id"] for r in rows]
    for r in rows:
        ids += [c["original_id"] for c in json.loads(r["candidates"] or "[]")]
    paths = _paths(conn, ids)
    out = []
    for r in rows:
        proposed = None
        if r["status"] == "review" and r["original_id"] is not None:
            proposed = {"original_id": r["original_id"], "original": paths.get(r["original_id"]),
                        "method": r["method"], "similarity": r["similarity"],
                        "evidence": json.loads(r["evidence"] or "{}")}
        out.append({"keeper_id": r["keeper_id"], "keeper": r["path"], "status": r["status"],
                    "reason": r["reason"], "proposed": proposed,
                    "candidates": _candidates(r["candidates"], paths)})
    return out


def match_summary(conn: sqlite3.Connection, *, details: bool = True) -> dict:
    """Counts by method over the whole keeper archive, review and unmatched, and (details) every link."""
    linked: dict[str, int] = {}
    for method, n in conn.execute(
        "SELECT method, COUNT(*) FROM keeper_links WHERE original_id IS NOT NULL AND needs_review = 0"
        " GROUP BY method ORDER BY method"
    ):
        linked[method] = n
    counts = dict(conn.execute("SELECT status, COUNT(*) FROM keeper_match_state GROUP BY status").fetchall())
    keepers = conn.execute("SELECT COUNT(*) FROM photos WHERE role = 'keepers' AND status = 'ok'").fetchone()[0]
    no_original = conn.execute(
        "SELECT COUNT(*) FROM keeper_links WHERE manual = 1 AND original_id IS NULL").fetchone()[0]
    summary = {
        "keepers": keepers,
        "linked": linked,
        "linked_total": sum(linked.values()),
        "review": counts.get("review", 0),
        "unmatched": counts.get("unmatched", 0),
        "manual_no_original": no_original,
        "confirmed_originals": len(confirmed_keeper_ids(conn)),
    }
    if details:
        rows = conn.execute(
            "SELECT l.*, k.path AS keeper, o.path AS original FROM keeper_links l"
            " JOIN photos k ON k.id = l.keeper_id LEFT JOIN photos o ON o.id = l.original_id"
            " ORDER BY k.path"
        ).fetchall()
        summary["links"] = [
            {"keeper_id": r["keeper_id"], "keeper": r["keeper"], "original_id": r["original_id"],
             "original": r["original"], "method": r["method"], "similarity": r["similarity"],
             "needs_review": bool(r["needs_review"]), "manual": bool(r["manual"]),
             "evidence": json.loads(r["evidence"] or "{}")}
            for r in rows if r["original_id"] is not None
        ]
        queue = review_queue(conn)
        summary["unmatched_keepers"] = [q for q in queue if q["status"] == "unmatched"]
        summary["review_keepers"] = [q for q in queue if q["status"] == "review"]
    return summary
