"""Keeper-score rules and bands, each written once.

A keeper score reads in bands (README, "How it fits together"): 1.0 keeper (confirmed or kept), 0.8+
probable keeper, 0.5-0.8 uncertain, below 0.5 probable non-keeper, NULL not scored. Each band is declared
once below; its SQL condition (`BANDS`, used by catalog queries and counts), its Python predicate
(`band_of`) and its label (the GUI's filter and legend) are all generated from that declaration.

The other rules every layer shares live here too: what a keep / reject / clear stores
(`DECISION_VALUES`), the score a decision imposes (`DECISION_SCORES`), "kept or confirmed"
(`kept_or_confirmed_sql`), "confirmed, else band" for display (`display_band`), a score in
writing (`score_text`), what a photo is in
words (`keeper_state`, `STATE_LABELS`: a confirmed keeper is linked from the keeper archive, a kept
photo was marked keep) and the words of a technical failure (`FAILURE_WORDS`).
Nothing here imports Qt, torch or numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

SCORE_COLUMN = "keeper_score"
CONFIRMED_SCORE = 1.0   # confirmed keeper, keeper-archive file, marked keep
FAILURE_SCORE = 0.0     # marked reject, unreadable, definitive technical failure


@dataclass(frozen=True)
class Band:
    """A keeper-score band: scores in [low, high) (None: unbounded); `unscored` holds NULL only."""

    name: str
    label: str
    low: float | None = None
    high: float | None = None
    unscored: bool = False

    def contains(self, score: float | None) -> bool:
        if score is None:
            return self.unscored
        if self.unscored:
            return False
        return (self.low is None or score >= self.low) and (self.high is None or score < self.high)

    def sql(self, column: str = SCORE_COLUMN) -> str:
        """The same condition as `contains`, for a WHERE clause (NULL never matches a bounded band)."""
        if self.unscored:
            return f"{column} IS NULL"
        parts = []
        if self.low is not None:
            parts.append(f"{column} >= {self.low}")
        if self.high is not None:
            parts.append(f"{column} < {self.high}")
        return " AND ".join(parts) if parts else f"{column} IS NOT NULL"


# Highest first; band_of returns the first that contains a score.
BAND_DEFS: tuple[Band, ...] = (
    Band("confirmed", "Keeper: confirmed or kept (1.0)", low=CONFIRMED_SCORE),
    Band("high", "Probable keeper (0.8+)", low=0.8, high=CONFIRMED_SCORE),
    Band("uncertain", "Uncertain (0.5-0.8)", low=0.5, high=0.8),
    Band("low", "Probable non-keeper (<0.5)", high=0.5),
    Band("unscored", "Not scored", unscored=True),
)

BANDS: dict[str, str] = {b.name: b.sql() for b in BAND_DEFS}            # band name -> SQL condition
BAND_LABELS: dict[str, str] = {b.name: b.label for b in BAND_DEFS}      # band name -> label
_BY_NAME = {b.name: b for b in BAND_DEFS}


def band(name: str) -> Band:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown score band {name!r}: expected one of {', '.join(_BY_NAME)}") from None


def band_of(score: float | None) -> str:
    """The band a score falls in (the Python predicate of the `BANDS` SQL conditions)."""
    for b in BAND_DEFS:
        if b.contains(score):
            return b.name
    raise AssertionError(f"no band holds {score!r}")  # the bands cover every value


def is_confirmed_score(score: float | None) -> bool:
    return score is not None and score >= CONFIRMED_SCORE


def score_text(score: float | None, missing: str = "—") -> str:
    """A keeper score as the window and the explanations write it: two decimals, with 0.00 and 1.00
    left to the rules that set a score exactly (a reject or a failure; a keep or a confirmed keeper).
    The model's own scores stop short of both ends (fluxcull.keeper.score): one that would round to
    them reads "<0.01" or ">0.99", never as if a decision or a failure had set it."""
    if score is None:
        return missing
    text = f"{score:.2f}"
    if text == "0.00" and score > 0:
        return "<0.01"
    if text == "1.00" and score < 1:
        return ">0.99"
    return text


def display_band(score: float | None, confirmed: bool) -> str:
    """What a thumbnail shows: a confirmed keeper (linked from the archive, or scored 1.0) reads as
    'confirmed' whatever its stored score; every other photo reads as its score's band."""
    return "confirmed" if confirmed or is_confirmed_score(score) else band_of(score)


# -- decisions ------------------------------------------------------------------------------------
# what a keep / reject / clear command stores in photos.decision
DECISION_VALUES: dict[str, str] = {"keep": "keep", "reject": "reject", "clear": "none"}
DECISION_FILTERS = ("keep", "reject", "none")  # the stored values, as the grid filters them
# the score a stored decision imposes, whatever the model says (score rule 1)
DECISION_SCORES: dict[str, float] = {"keep": CONFIRMED_SCORE, "reject": FAILURE_SCORE}


def decision_value(kind: str) -> str:
    """The stored decision of a keep / reject / clear command."""
    try:
        return DECISION_VALUES[kind]
    except KeyError:
        raise ValueError(f"unknown decision {kind!r}: expected keep, reject or clear") from None


def decision_score_sql(decision_column: str, otherwise: str) -> str:
    """SQL: the score a decision imposes (rule 1), else `otherwise`."""
    whens = " ".join(f"WHEN '{d}' THEN {s}" for d, s in DECISION_SCORES.items())
    return f"(CASE {decision_column} {whens} ELSE {otherwise} END)"


# SQL: a photo's score by rules 2-5 as stored. keeper_score itself while it carries no decision;
# base_score (kept beside it, migration 0010) once a keep / reject imposes 1.0 / 0.0 on keeper_score.
BASE_SCORE_SQL = f"(CASE WHEN decision = 'none' THEN {SCORE_COLUMN} ELSE base_score END)"


def decided_score(decision: str, base: float | None) -> float | None:
    """The keeper score of a photo with this stored decision and this score by rules 2-5 (rule 1)."""
    return DECISION_SCORES.get(decision, base)


def apply_decision(rec: dict, decision: str) -> None:
    """Show a stored decision on a photo record at once, as the catalog stores it: the decision, and
    the score it imposes (1.0 / 0.0), or the photo's own score again when cleared."""
    old = rec.get("decision") or "none"
    base = rec.get(SCORE_COLUMN) if old == "none" else rec.get("base_score")
    rec["base_score"] = base
    rec["decision"] = decision
    rec[SCORE_COLUMN] = decided_score(decision, base)


def kept_or_confirmed_sql(prefix: str = "") -> str:
    """SQL: a photo marked keep or scored as a confirmed keeper (a session's keepers; a rejected
    confirmed keeper scores 0.0 and is none)."""
    return f"({prefix}decision = 'keep' OR {prefix}{SCORE_COLUMN} >= {CONFIRMED_SCORE})"


# -- what a photo is, in words --------------------------------------------------------------------
# the technical failures of score rule 4 (photos.failure), as the window says them
FAILURE_WORDS: dict[str, str] = {"blank": "blank frame", "black": "near-black frame", "blurred": "wildly blurred"}

STATE_LABELS: dict[str, str] = {
    **{b.name: b.label for b in BAND_DEFS},
    "confirmed": "Confirmed keeper (linked from the keeper archive)",
    "archive": "Keeper-archive file",
    "kept": "Kept (marked keep)",
    "rejected_keeper": "Rejected, though a confirmed keeper (linked from the keeper archive)",
    "rejected": "Rejected (marked reject)",
    "failure": "Technical failure",
}
KEEPER_STATES = frozenset({"confirmed", "archive", "kept"})  # what counts among a session's keepers
CONFIRMED_STATES = frozenset({"confirmed", "archive"})  # drawn as a confirmed keeper (gold ★), not rejected


def keeper_state(rec: dict, linked: bool) -> str:
    """What a photo is: 'confirmed' (an original linked from the keeper archive), 'archive' (a
    keeper-archive file), 'kept' (marked keep), 'rejected_keeper' (a confirmed keeper or archive
    file marked reject), 'rejected', 'failure' (a technical failure, rule 4), else its score's band.
    `linked`: the photo is the original of an accepted keeper link."""
    decision = rec.get("decision") or "none"
    archive = linked or rec.get("role") == "keepers"
    if decision == "reject":
        return "rejected_keeper" if archive else "rejected"
    if archive:
        return "confirmed" if linked else "archive"
    if decision == "keep":
        return "kept"
    if rec.get("failure") and rec.get(SCORE_COLUMN) == FAILURE_SCORE:
        return "failure"
    return band_of(rec.get(SCORE_COLUMN))


def failure_text(rec: dict) -> str:
    """'technical failure: near-black frame' for a photo rule 4 scored 0.0, else ''."""
    code = rec.get("failure")
    return f"technical failure: {FAILURE_WORDS.get(code, code)}" if code else ""
