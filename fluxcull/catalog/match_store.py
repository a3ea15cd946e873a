"""What keeper matching reads from and writes to the catalog: the photos' matching metadata, the
corpus signature, the per-keeper matching state, and one run's results (links, states, and the
confirmed-keeper scores they imply) in one transaction."""

from __future__ import annotations

import sqlite3
from typing import Iterator, NamedTuple

from fluxcull.catalog.db import transaction
from fluxcull.catalog.score_writes import sync_confirmed_scores

# the columns matching reads of a photo (fluxcull.matching.candidates.PhotoMeta.from_row)
META_COLUMNS = "id, path, sha256, taken_at, capture_time, time_source, camera_model, original_filename"
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


class MatchResult(NamedTuple):
    """One keeper's automatic outcome, as stored."""

    keeper_id: int
    keeper_sha256: str | None
    original_id: int | None     # None: no link (review without a proposal, or unmatched)
    method: str | None
    evidence: str               # JSON
    similarity: float | None
    needs_review: bool
    status: str                 # linked, review or unmatched
    corpus_sig: str
    reason: str | None
    candidates: str             # JSON


def original_meta_batches(conn: sqlite3.Connection, size: int = 20000) -> Iterator[list]:
    """The originals (not missing), in id order, in batches of rows of META_COLUMNS. A RAW+JPEG pair
    is one candidate, its JPEG: the RAW shares its time and name, and is no second photo."""
    cur = conn.execute(f"SELECT {META_COLUMNS} FROM photos WHERE role = 'originals' AND status != 'missing'"
                       " AND pair_of IS NULL ORDER BY id")
    while True:
        rows = cur.fetchmany(size)
        if not rows:
            return
        yield rows


def keeper_meta_rows(conn: sqlite3.Connection) -> list:
    """Keeper-archive photos (status ok), in id order, as rows of META_COLUMNS."""
    return conn.execute(f"SELECT {META_COLUMNS} FROM photos WHERE role = 'keepers' AND status = 'ok' ORDER BY id").fetchall()


def corpus_signature(conn: sqlite3.Connection, backbone_id: str | None) -> str:
    """A fingerprint of the originals and of their embeddings ("originals|embeddings"): changes when
    either does, and not when keepers are added."""
    o = conn.execute(
        "SELECT COUNT(*), COALESCE(MAX(id), 0), TOTAL(size), TOTAL(mtime_ns % 1000003)"
        " FROM photos WHERE role = 'originals' AND status != 'missing' AND pair_of IS NULL"
    ).fetchone()
    parts = [str(int(o[0])), str(int(o[1])), str(int(o[2])), str(int(o[3]))]
    emb = "none"
    if backbone_id is not None:
        e = conn.execute(
            "SELECT COUNT(*), MAX(e.created_at) FROM embedding_rows e JOIN photos p ON p.id = e.photo_id"
            " WHERE e.backbone_id = ? AND p.role = 'originals'", (backbone_id,)
        ).fetchone()
        emb = f"{backbone_id}:{e[0]}:{e[1]}"
    return ":".join(parts) + "|" + emb


def keepers_with_embeddings(conn: sqlite3.Connection, backbone_id: str | None) -> set[int]:
    if backbone_id is None:
        return set()
    return {r[0] for r in conn.execute(
        "SELECT e.photo_id FROM embedding_rows e JOIN photos p ON p.id = e.photo_id"
        " WHERE e.backbone_id = ? AND p.role = 'keepers'", (backbone_id,))}


class MatchState(NamedTuple):
    states: dict[int, tuple[str, str | None, str | None]]  # keeper -> (status, keeper_sha256, corpus_sig)
    links: dict[int, int]                                   # keeper -> manual (0/1), every link
    unchecked: set[int]  # automatic links made without comparing content (no embeddings then)


def match_state(conn: sqlite3.Connection) -> MatchState:
    states = {r[0]: (r[1], r[2], r[3]) for r in conn.execute(
        "SELECT keeper_id, status, keeper_sha256, corpus_sig FROM keeper_match_state")}
    links = {r[0]: r[1] for r in conn.execute("SELECT keeper_id, manual FROM keeper_links")}
    unchecked = {r[0] for r in conn.execute(
        "SELECT keeper_id FROM keeper_links WHERE manual = 0 AND similarity IS NULL")}
    return MatchState(states, links, unchecked)


def write_match_results(conn: sqlite3.Connection, results: list[MatchResult]) -> int:
    """Store one run's results in one transaction, skipping keepers a person decided meanwhile;
    originals that gained or lost a confirmed link get their score set or cleared. Returns how many
    keepers were written."""
    with transaction(conn):
        manual_now = {r[0] for r in conn.execute("SELECT keeper_id FROM keeper_links WHERE manual = 1")}
        old = dict(conn.execute("SELECT keeper_id, original_id FROM keeper_links WHERE manual = 0").fetchall())
        affected: set[int] = set()
        link_rows, drop, states = [], [], []
        for r in results:
            if r.keeper_id in manual_now:  # a person decided while this run was working
                continue
            if r.keeper_id in old:
                affected.add(old[r.keeper_id])
            if r.original_id is not None:
                affected.add(r.original_id)
                link_rows.append((r.keeper_id, r.original_id, r.method, r.evidence, r.similarity, int(r.needs_review)))
            else:
                drop.append((r.keeper_id,))
            states.append((r.keeper_id, r.status, r.keeper_sha256, r.corpus_sig, r.reason, r.candidates))
        conn.executemany(
            "INSERT INTO keeper_links(keeper_id, original_id, method, evidence, similarity, needs_review, manual)"
            " VALUES (?, ?, ?, ?, ?, ?, 0)"
            " ON CONFLICT(keeper_id) DO UPDATE SET original_id = excluded.original_id, method = excluded.method,"
            " evidence = excluded.evidence, similarity = excluded.similarity, needs_review = excluded.needs_review,"
            f" created_at = {_NOW} WHERE keeper_links.manual = 0",
            link_rows,
        )
        conn.executemany("DELETE FROM keeper_links WHERE keeper_id = ? AND manual = 0", drop)
        conn.executemany(
            "INSERT INTO keeper_match_state(keeper_id, status, keeper_sha256, corpus_sig, reason, candidates)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(keeper_id) DO UPDATE SET status = excluded.status,"
            " keeper_sha256 = excluded.keeper_sha256, corpus_sig = excluded.corpus_sig,"
            " reason = excluded.reason, candidates = excluded.candidates,"
            f" matched_at = {_NOW}",
            states,
        )
        sync_confirmed_scores(conn, affected)
    return len(states)
