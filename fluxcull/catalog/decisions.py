"""Keep / reject / clear, undo, and pairwise preferences: each a row change plus a log event.

Every function commits its own transaction (or joins the caller's), so a decision is on disk the
moment the call returns. A keep / reject imposes its score (1.0 / 0.0, score rule 1) on keeper_score
in the same UPDATE, and a clear or an undo gives the photo its own score back (base_score: rules
2-5), so what the catalog says is current without a re-score.

Decisions made together as one step (`decide_batch`: one `fluxcull import-marks`; `choose`: a side-by-side
choice with the keep and the reject it made) share a batch, and an undo takes the whole batch back at once;
a photo decided again after the batch keeps that later decision. Stars and colour labels
(fluxcull.catalog.ratings) are undone here too, the same way.

A RAW+JPEG pair is decided as one photo: a decision on either file applies to its JPEG (the
primary) and to the RAW (the secondary, `photos.pair_of`) in the same transaction. The log gets the
primary's event and, for the RAW, an event with other_photo_id = the primary and detail
'pair:<the primary's event id>'; an undo of the primary's event undoes those with it, and undo never
picks one of them on its own. When files decided apart become a pair, `align_pair` gives both the
JPEG's decision (the RAW's where the JPEG has none), logged with detail 'pair:joined'.
"""

from __future__ import annotations

import sqlite3
from typing import Callable, Iterable

from fluxcull.catalog import ratings
from fluxcull.catalog.db import transaction
from fluxcull.catalog.scores import BASE_SCORE_SQL, DECISION_VALUES, decision_score_sql, decision_value

DECISION_KINDS = ("keep", "reject", "clear")
UNDOABLE = (*DECISION_KINDS, "prefer", *ratings.MARK_KINDS)  # what an undo takes back
_SUPERSEDED_BY = {**{k: DECISION_KINDS for k in DECISION_KINDS}, **{k: (k,) for k in ratings.MARK_KINDS},
                  "prefer": ()}  # later events that replace what an event set on its photo

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
# every right-hand side reads the row as it was: the score by rules 2-5 is kept in base_score, and
# keeper_score becomes what the new decision (parameter 1) makes of it
_SET_DECISION = (f"UPDATE photos SET base_score = {BASE_SCORE_SQL}, decision = ?1,"
                 f" keeper_score = {decision_score_sql('?1', BASE_SCORE_SQL)}, updated_at = {_NOW}")


def _set_decision(conn: sqlite3.Connection, photo_id: int, decision: str, *, stamp: bool = True) -> None:
    extra = f", decided_at = {_NOW}" if stamp else ""
    conn.execute(f"{_SET_DECISION}{extra} WHERE id = ?2", (decision, photo_id))


_PAIR = "pair:"  # detail of the events a RAW+JPEG pair's RAW file gets with its JPEG's
_NOT_PAIR_EVENT = f"(detail IS NULL OR substr(detail, 1, {len(_PAIR)}) != '{_PAIR}')"


def _unit(conn: sqlite3.Connection, pid: int) -> sqlite3.Row:
    """(id, decision) of the photo unit `pid` belongs to: its JPEG where it is the RAW of a pair."""
    row = conn.execute("SELECT id, pair_of, decision FROM photos WHERE id = ?", (pid,)).fetchone()
    if row is None:
        raise KeyError(f"no photo with id {pid}")
    if row["pair_of"] is not None:
        row = conn.execute("SELECT id, pair_of, decision FROM photos WHERE id = ?", (row["pair_of"],)).fetchone()
    return row


def decide(conn: sqlite3.Connection, photo_ids: Iterable[int], kind: str, source: str) -> list[int]:
    """Set the decision of photos (kind: keep, reject or clear); return the ids that changed. A
    RAW+JPEG pair's RAW stands for its pair: the ids are those of the photo units (the JPEGs)."""
    new = decision_value(kind)
    changed, done = [], set()
    with transaction(conn):
        for given in photo_ids:
            row = _unit(conn, given)
            pid = row["id"]
            if pid in done:
                continue
            done.add(pid)
            event = conn.execute(
                "INSERT INTO decision_events(photo_id, kind, previous, source) VALUES (?, ?, ?, ?)",
                (pid, kind, row["decision"], source),
            ).lastrowid
            if row["decision"] != new:
                changed.append(pid)
            _set_decision(conn, pid, new)
            for sec, previous in conn.execute("SELECT id, decision FROM photos WHERE pair_of = ?", (pid,)).fetchall():
                conn.execute(
                    "INSERT INTO decision_events(photo_id, kind, other_photo_id, previous, source, detail)"
                    " VALUES (?, ?, ?, ?, ?, ?)", (sec, kind, pid, previous, source, f"{_PAIR}{event}"))
                _set_decision(conn, sec, new)
    return changed


def decide_batch(conn: sqlite3.Connection, items: Iterable[tuple[int, str, str | None]], source: str) -> int | None:
    """Keep / reject / clear photos as one step, undone together: `items` are (photo id, kind, detail),
    one per photo (a RAW+JPEG pair's RAW stands for its pair, as in `decide`; a unit given twice takes
    the first). Returns the batch (the id of its first event), None when there is nothing to do."""
    items = list(items)
    if not items:
        return None
    done: set[int] = set()
    with transaction(conn):
        batch = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM decision_events").fetchone()[0])
        first = True
        for given, kind, detail in items:
            new = decision_value(kind)
            row = _unit(conn, given)
            pid = row["id"]
            if pid in done:
                continue
            done.add(pid)
            event = conn.execute(
                "INSERT INTO decision_events(photo_id, kind, previous, source, detail, batch) VALUES (?, ?, ?, ?, ?, ?)",
                (pid, kind, row["decision"], source, detail, batch)).lastrowid
            if first and event != batch:  # rowids are max + 1 inside the write transaction
                raise RuntimeError(f"decision batch {batch} began at event {event}")
            first = False
            _set_decision(conn, pid, new)
            for sec, previous in conn.execute("SELECT id, decision FROM photos WHERE pair_of = ?", (pid,)).fetchall():
                conn.execute(
                    "INSERT INTO decision_events(photo_id, kind, other_photo_id, previous, source, detail, batch)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)", (sec, kind, pid, previous, source, f"{_PAIR}{event}", batch))
                _set_decision(conn, sec, new)
    return batch


def align_pair(conn: sqlite3.Connection, primary: int, secondary: int) -> str | None:
    """Files decided apart have just become a pair: both get the primary's decision, or the
    secondary's where the primary has none (logged, source 'pairing'). Returns the decision given to
    a file that changed, else None. Joins the caller's transaction."""
    dec = dict(conn.execute("SELECT id, decision FROM photos WHERE id IN (?, ?)", (primary, secondary)).fetchall())
    if dec.get(primary) == dec.get(secondary) or len(dec) < 2:
        return None
    target = dec[primary] if dec[primary] != "none" else dec[secondary]
    kind = next(k for k, v in DECISION_VALUES.items() if v == target)
    with transaction(conn):
        for pid, other in ((primary, secondary), (secondary, primary)):
            if dec[pid] != target:
                conn.execute(
                    "INSERT INTO decision_events(photo_id, kind, other_photo_id, previous, source, detail)"
                    " VALUES (?, ?, ?, ?, 'pairing', ?)", (pid, kind, other, dec[pid], f"{_PAIR}joined"))
                _set_decision(conn, pid, target)
    return target


def _restore(conn: sqlite3.Connection, ev) -> str | None:
    """Put back what one event changed (nothing for a preference); the value restored."""
    if ev["kind"] == "prefer":
        return None
    if ev["kind"] in ratings.MARK_KINDS:
        return ratings.restore(conn, ev)
    restored = ev["previous"] or "none"
    _set_decision(conn, ev["photo_id"], restored, stamp=False)
    return restored


def _log_undo(conn: sqlite3.Connection, ev, source: str) -> None:
    conn.execute(
        "INSERT INTO decision_events(photo_id, kind, other_photo_id, previous, source, detail)"
        " VALUES (?, 'undo', ?, ?, ?, ?)",
        (ev["photo_id"], ev["other_photo_id"], ev["kind"], source, str(ev["id"])),
    )


def _undo_batch(conn: sqlite3.Connection, batch: int, undone: set[int], source: str) -> dict:
    """Undo every event of a batch not undone yet, newest first; a photo decided (rated, labelled) again
    since keeps that."""
    events = [e for e in conn.execute("SELECT * FROM decision_events WHERE batch = ? ORDER BY id DESC", (batch,))
              if e["id"] not in undone]
    restored = 0
    for ev in events:
        kinds = _SUPERSEDED_BY[ev["kind"]]
        later = conn.execute("SELECT id FROM decision_events WHERE photo_id = ? AND id > ? AND kind IN (%s)"
                             % ",".join("?" * len(kinds)), (ev["photo_id"], ev["id"], *kinds)).fetchall() \
            if kinds else []
        if all(r[0] in undone for r in later) and _restore(conn, ev) is not None:
            restored += 1
        _log_undo(conn, ev, source)
    first = events[0]
    return {"event_id": first["id"], "photo_id": first["photo_id"], "kind": first["kind"],
            "restored": None if first["kind"] == "prefer" else (first["previous"] or "none"), "batch": batch,
            "source": first["source"], "events": len(events), "photos_restored": restored,
            "photo_ids": sorted({e["photo_id"] for e in events} | {e["other_photo_id"] for e in events
                                                                   if e["other_photo_id"] is not None})}


def undo_last(conn: sqlite3.Connection, source: str, *, sources: Iterable[str] | None = None) -> dict | None:
    """Undo the most recent keep/reject/clear/prefer/rate/label not already undone (all of its batch, if it
    has one).

    Returns {"event_id", "photo_id", "kind", "restored"} or None when there is nothing to undo; for a
    batch also "batch", "source", "events" (how many were undone) and "photos_restored".
    With `sources`, only events from those sources are considered (the GUI undoes its own clicks).
    """
    with transaction(conn):
        undone = {
            int(r[0])
            for r in conn.execute("SELECT detail FROM decision_events WHERE kind = 'undo' AND detail IS NOT NULL")
        }
        params: list = []
        where = "kind IN (%s) AND %s" % (",".join(f"'{k}'" for k in UNDOABLE), _NOT_PAIR_EVENT)
        if sources is not None:
            srcs = list(sources)
            where += " AND source IN (%s)" % ",".join("?" * len(srcs))
            params += srcs
        for ev in conn.execute(f"SELECT * FROM decision_events WHERE {where} ORDER BY id DESC", params):
            if ev["id"] in undone:
                continue
            if ev["batch"] is not None:
                return _undo_batch(conn, ev["batch"], undone, source)
            restored = _restore(conn, ev)
            _log_undo(conn, ev, source)
            # the RAW files decided with it (a RAW+JPEG pair): restored with it
            for comp in conn.execute("SELECT * FROM decision_events WHERE id > ? AND detail = ?",
                                     (ev["id"], f"{_PAIR}{ev['id']}")).fetchall():
                if comp["id"] in undone:
                    continue
                _restore(conn, comp)
                _log_undo(conn, comp, source)
            return {"event_id": ev["id"], "photo_id": ev["photo_id"], "kind": ev["kind"], "restored": restored,
                    "photo_ids": [ev["photo_id"]] + ([ev["other_photo_id"]] if ev["other_photo_id"] else [])}
    return None


def prefer(conn: sqlite3.Connection, winner: int, loser: int, source: str) -> int:
    """Record that `winner` was chosen over `loser` in a side-by-side comparison."""
    with transaction(conn):
        winner, loser = _unit(conn, winner)["id"], _unit(conn, loser)["id"]  # a pair's RAW: its JPEG
        if winner == loser:
            raise ValueError("a photo cannot be preferred over itself")
        cur = conn.execute(
            "INSERT INTO decision_events(photo_id, kind, other_photo_id, source) VALUES (?, 'prefer', ?, ?)",
            (winner, loser, source),
        )
        return int(cur.lastrowid)


def choose(conn: sqlite3.Connection, winner: int, loser: int, source: str,
           verdict: Callable[[str, str], tuple[str | None, str | None] | None] | None = None) -> dict:
    """A side-by-side choice: `winner` preferred over `loser`, and with `verdict` the decisions the choice
    makes. `verdict(winner's decision, loser's decision)`, given the stored decisions as they are inside
    this transaction, returns the kinds to apply to (winner, loser) (None: leave that photo), or None
    for none (fluxcull.culling.compare_verdict holds the rule). With decisions, they and the preference
    are one batch, so one undo takes the whole choice back. Returns {"event_id" (the preference),
    "batch", "decided": [[photo id, kind], ...]}."""
    if winner == loser:
        raise ValueError("a photo cannot be preferred over itself")
    with transaction(conn):
        now = {}
        units = []
        for pid in (winner, loser):  # a RAW+JPEG pair's RAW stands for its pair
            row = _unit(conn, pid)
            units.append(row["id"])
            now[row["id"]] = row["decision"]
        winner, loser = units
        if winner == loser:
            raise ValueError("a photo cannot be preferred over itself")
        kinds = verdict(now[winner], now[loser]) if verdict is not None else None
        todo = [(pid, kind) for pid, kind in zip((winner, loser), kinds or ()) if kind is not None]
        if not todo:
            return {"event_id": prefer(conn, winner, loser, source), "batch": None, "decided": []}
        batch = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM decision_events").fetchone()[0])
        for pid, kind in todo:
            event = conn.execute("INSERT INTO decision_events(photo_id, kind, previous, source, batch)"
                                 " VALUES (?, ?, ?, ?, ?)", (pid, kind, now[pid], source, batch)).lastrowid
            if pid == todo[0][0] and event != batch:  # ids are max + 1 inside the write transaction
                raise RuntimeError(f"choice batch {batch} began at event {event}")
            _set_decision(conn, pid, decision_value(kind))
            for sec, previous in conn.execute("SELECT id, decision FROM photos WHERE pair_of = ?", (pid,)).fetchall():
                conn.execute(
                    "INSERT INTO decision_events(photo_id, kind, other_photo_id, previous, source, detail, batch)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)", (sec, kind, pid, previous, source, f"{_PAIR}{event}", batch))
                _set_decision(conn, sec, decision_value(kind))
        event = conn.execute("INSERT INTO decision_events(photo_id, kind, other_photo_id, source, batch)"
                             " VALUES (?, 'prefer', ?, ?, ?)", (winner, loser, source, batch)).lastrowid
        return {"event_id": int(event), "batch": batch, "decided": [[pid, kind] for pid, kind in todo]}


def active_preferences(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    """All (winner, loser) pairs recorded and not undone, oldest first."""
    undone = {
        int(r[0]) for r in conn.execute("SELECT detail FROM decision_events WHERE kind = 'undo' AND detail IS NOT NULL")
    }
    return [
        (r["photo_id"], r["other_photo_id"])
        for r in conn.execute("SELECT id, photo_id, other_photo_id FROM decision_events WHERE kind = 'prefer' ORDER BY id")
        if r["id"] not in undone
    ]
