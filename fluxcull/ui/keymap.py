"""The keyboard map: one table that both binds the actions and is shown in Help > Keyboard shortcuts.

`resources/keymap.md` in the source tree is `keymap_markdown()` written out (a test keeps them equal).
"""

from __future__ import annotations

# action name -> (key sequences, what it does); the main window binds these names.
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "keep": (("P",), "Keep (pick) the current or selected photos"),
    "reject": (("X",), "Reject the current or selected photos"),
    "clear": (("U",), "Clear the decision"),
    "undo": (("Ctrl+Z",), "Undo the last decision or comparison choice (repeatable)"),
    "auto_advance": (("A",), "Auto-advance to the next photo after a decision (toggle)"),
    "loupe": (("Space", "E"), "Loupe: the photo large, with the EXIF panel"),
    "compare": (("C",), "Compare: the two selected photos, else the most informative pair"),
    "grid": (("G", "Esc"), "Back to the grid"),
    "zoom": (("Z",), "Loupe/compare: toggle fit and 100% (synchronised in compare)"),
    "info": (("I",), "Loupe: show or hide the EXIF panel"),
    "freeze": (("F",), "Compare: freeze the champion; challengers come one by one"),
    "skip_pair": (("N",), "Compare, champion frozen: pass over this challenger"),
    "bigger": (("=", "+"), "Larger thumbnails"),
    "smaller": (("-",), "Smaller thumbnails"),
    "sort_time": (("Ctrl+1",), "Sort by capture time"),
    "sort_score": (("Ctrl+2",), "Sort by keeper score (highest first)"),
    "focus_sessions": (("Ctrl+L",), "Go to the session list"),
    "retrain": (("Ctrl+R",), "Model: retrain now, then re-score"),
    "rescore": (("Ctrl+Shift+R",), "Model: re-score every photo with the active model"),
    "review": (("Ctrl+K",), "Keeper review: matches that need a decision"),
    "settings": (("Ctrl+,",), "Library settings"),
    "keymap": (("F1",), "This key map"),
}

# keys handled by the views themselves (not window-wide shortcuts)
VIEW_KEYS: list[tuple[str, str]] = [
    ("Arrows", "Grid: move; loupe: previous/next photo"),
    ("Home / End", "Grid: first / last photo"),
    ("PgUp / PgDn", "Grid: a screenful up / down"),
    ("Left / Right", "Compare: the left / the right photo is the better one (records a preference)"),
    ("Mouse wheel", "Loupe/compare: zoom around the pointer; drag to pan"),
]

SECTIONS: list[tuple[str, list[str]]] = [
    ("Culling", ["keep", "reject", "clear", "undo", "auto_advance"]),
    ("Views", ["loupe", "compare", "grid", "zoom", "info", "freeze", "skip_pair"]),
    ("Grid", ["bigger", "smaller", "sort_time", "sort_score", "focus_sessions"]),
    ("Model and library", ["retrain", "rescore", "review", "settings", "keymap"]),
]


def rows() -> list[tuple[str, str, str]]:
    """(section, keys, description) for every entry, in display order."""
    out = []
    for section, names in SECTIONS:
        for name in names:
            keys, text = ACTIONS[name]
            out.append((section, " / ".join(keys), text))
    for keys, text in VIEW_KEYS:
        out.append(("Moving and choosing", keys, text))
    return out


def keymap_markdown() -> str:
    lines = ["# fluxcull key map", "", "| Section | Keys | Action |", "|---|---|---|"]
    for section, keys, text in rows():
        lines.append(f"| {section} | `{keys}` | {text} |")
    return "\n".join(lines) + "\n"
