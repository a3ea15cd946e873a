"""What an empty grid says: why nothing is shown, and what to do about it (one message per filter)."""

from __future__ import annotations

from fluxcull.catalog.filters import FIELDS, format_where

BANDS = {
    "confirmed": "No keeper (1.0) in {where}: a photo scores 1.0 when your keeper archive holds an export of it "
                 "(a confirmed keeper) or when you keep it (P).",
    "high": "No photo in {where} scores 0.8 or more yet: with few keepers the model is rarely that sure. Keep (P) "
            "the photos you like, then Model ▸ Retrain now (Ctrl+R).",
    "uncertain": "No photo in {where} scores 0.5–0.8: the model is sure about each of them, one way or the other. "
                 "With few keepers most scores stay low (red); keep and reject more photos, then retrain (Ctrl+R).",
    "low": "No photo in {where} scores below 0.5.",
    "unscored": "Every photo in {where} has a keeper score.",
}
DECISIONS = {
    "keep": "You have kept no photo in {where} yet: press P on a photo to keep it.",
    "reject": "You have rejected no photo in {where} yet: press X on a photo to reject it.",
    "none": "Every photo in {where} is decided: nothing is left to cull here.",
}
ROLE_WORDS = {"originals": "the originals", "keepers": "the keeper archive", "inbox": "the inbox"}
ROLE_EMPTY = {
    "inbox": "No photos in the inbox yet: new photos put in the INBOX folder appear here, scored "
             "(Library ▸ Library settings chooses the folder).",
    "keepers": "No keeper-archive files yet: choose your KEEPERS folder in Library ▸ Library settings; fluxcull "
               "links each export to its original and learns your taste from them.",
    "originals": "No originals yet: choose your ORIGINALS folder in Library ▸ Library settings.",
}
ANY = "Set Decision and Score to Any to see every photo."
TOOLBAR_ATTRS = ("decision", "band", "role", "min_rating", "label")  # filters the toolbar above the bar shows


def marks_message(stars: int | None, label: str | None, where: str) -> str:
    """Why a Stars or Label filter finds nothing, and how photos get stars and labels."""
    wanted = []
    if stars:
        wanted.append(f"{stars} star{'s' * (stars != 1)}{' or more' if stars < 5 else ''}")
    if label == "none" and not stars:
        return f"Every photo in {where} has a colour label. Set Label to Any to see every photo."
    if label:
        wanted.append({"any": "a colour label", "none": "no colour label"}.get(label, f"the {label.capitalize()} label"))
    return (f"No photo in {where} has {' and '.join(wanted)}: keys 1-5 give the current or selected photos stars, "
            "6-9 a colour label (red, yellow, green, blue). Set Stars and Label to Any to see every photo.")


def empty_message(query, label: str = "") -> str:
    """The grid's message when `query` (fluxcull.catalog.queries.PhotoQuery) finds no photo."""
    role = getattr(query, "role", None)
    where = "this session" if getattr(query, "session_id", None) is not None else ROLE_WORDS.get(role, "your library")
    band, decision = getattr(query, "band", None), getattr(query, "decision", None)
    # the filter bar's: its widgets' and what it shows beside them (name~, an upper bound)
    found = {a: getattr(query, a, None) for f in FIELDS for a in f.attrs if a and a not in TOOLBAR_ATTRS}
    found = {a: v for a, v in found.items() if v is not None}
    if found:
        also = " (and the Decision and Score filters)" if band or decision else ""
        return (f"No photo in {where} matches the filter bar{also}: {format_where(found)}. Change it, or clear it "
                "with ✕ to see every photo.")
    stars, colour = getattr(query, "min_rating", None), getattr(query, "label", None)
    if (stars or colour) and not (band or decision):
        return marks_message(stars, colour, where)
    if (stars or colour) and (band or decision):
        return f"No photo in {where} matches all the filters above. Set them to Any to see every photo."
    if band and decision:
        return f"No photo in {where} matches both the Decision and the Score filter. {ANY}"
    if band:
        return BANDS.get(band, "No photo in {where} is in this score band.").format(where=where) + " " + ANY
    if decision:
        return DECISIONS.get(decision, "No photo in {where} has this decision.").format(where=where) + " " + ANY
    if getattr(query, "extra", None) or getattr(query, "status", "ok") != "ok":
        return f"No photo in {where} matches the filters above. Set them to Any to see every photo."
    if role in ROLE_EMPTY:
        return ROLE_EMPTY[role]
    if getattr(query, "session_id", None) is not None:
        return "This session has no photos left (its files may have moved): choose another session on the left."
    return ("No photos here yet: Library ▸ First-run guide… chooses your ORIGINALS, KEEPERS and INBOX folders "
            "and builds the library.")
