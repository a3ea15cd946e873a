"""The window's actions, declared once: id, title, keys, what it does, its menu and key-map section.

The main window builds its menus and shortcuts from `ACTIONS` (fluxcull.ui.actions), and Help >
Keyboard shortcuts shows `rows(keys)`, generated from the same declarations with the keys in effect:
these defaults, or a person's own from the key map file (fluxcull.ui.keyfile). `resources/keymap.md`
in the source tree is `keymap_markdown()` of the defaults written out (a test keeps them equal). No
Qt here: a callback is a function of the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

MENUS = ("&Library", "&Photo", "&View", "&Model", "&Help")
SECTIONS = ("Culling", "Stars and labels", "Views", "Grid", "Model and library")
# Lightroom's keys: 0-5 stars, 6-9 a colour label (purple has no key: `fluxcull label --color purple`)
STAR_KEYS = {str(n): n for n in range(6)}
LABEL_KEYS = {"6": "red", "7": "yellow", "8": "green", "9": "blue"}


@dataclass(frozen=True)
class Action:
    id: str
    help: str                           # what it does: the key map's text and the tooltip
    keys: tuple[str, ...]               # key sequences ("Ctrl+Z"), first the one shown in the menu
    run: Callable[[Any], Any]           # run(window), or run(window, checked) for a checkable one
    menu: str
    section: str | None = None          # key-map section (None: a menu entry only)
    title: str | None = None            # menu text (default: the help text)
    checkable: bool = False
    checked: bool = False               # initial state of a checkable action
    separator: bool = False             # a separator above it in its menu
    standard: str | None = None         # a platform-standard key (QKeySequence.StandardKey name)
    submenu: str | None = None          # a submenu of `menu` it goes in

    @property
    def text(self) -> str:
        return self.title or self.help


def _bump(w, step: int) -> None:
    w.filters.size_slider.setValue(w.filters.size_slider.value() + step)


def _drafts(w) -> None:
    from fluxcull.ui.drafts import open_drafts  # the view's Qt widgets: loaded when it is first opened

    open_drafts(w)


def _open_analytics(w) -> None:
    from fluxcull.ui.analytics import open_analytics  # Qt: imported when the window asks for it

    open_analytics(w)


def _open_motifs(w) -> None:
    from fluxcull.ui.motifs import open_motifs  # Qt: imported when the window asks for it

    open_motifs(w)


def _open_rediscover(w) -> None:
    from fluxcull.ui.rediscover import open_rediscover  # Qt: imported when the window asks for it

    open_rediscover(w)


ACTIONS: tuple[Action, ...] = (
    # Library
    Action("settings", "Library settings", ("Ctrl+,",), lambda w: w.open_settings(), "&Library", "Model and library"),
    Action("first_run", "Choose the folders and build the library", (), lambda w: w.open_first_run(), "&Library",
           title="First-run guide…"),
    Action("export_xmp", "Write keeps, rejects and keeper scores into XMP sidecars for other applications", (),
           lambda w: w.open_export(), "&Library", title="Export decisions…", separator=True),
    Action("analytics", "Keeper density by time, place and session, motifs over time, and taste drift", (),
           lambda w: _open_analytics(w), "&Library", title="Analytics…"),
    Action("motifs", "Your recurring scenes (keepers clustered by look): name them, show one's photos in the grid",
           (), _open_motifs, "&Library", title="Motifs…"),
    Action("rediscover", "Probable keepers among the originals nobody ever decided on, by session, to show in the "
           "grid", (), _open_rediscover, "&Library", title="Rediscover…"),
    Action("quit", "Quit fluxcull", (), lambda w: w.close(), "&Library", title="Quit", separator=True,
           standard="Quit"),
    # Photo
    Action("keep", "Keep (pick) the current or selected photos", ("P",), lambda w: w.culling.decide("keep"),
           "&Photo", "Culling", title="Keep"),
    Action("reject", "Reject the current or selected photos", ("X",), lambda w: w.culling.decide("reject"),
           "&Photo", "Culling", title="Reject"),
    Action("clear", "Clear the decision", ("U",), lambda w: w.culling.decide("clear"), "&Photo", "Culling"),
    Action("keep_best", "Keep the best frame of the current stack (its highest keeper score) and reject the rest, in "
           "one stroke (one undo)", ("Shift+K",), lambda w: w.culling.keep_best(), "&Photo", "Culling",
           title="Keep the best of the stack"),
    Action("undo", "Undo the last decision, stars, colour label or comparison choice (repeatable)", ("Ctrl+Z",),
           lambda w: w.culling.undo(), "&Photo", "Culling", separator=True, title="Undo"),
    Action("auto_advance", "Auto-advance to the next photo after a decision, stars or a label (toggle)", ("A",),
           lambda w, on: w.set_auto_advance(on), "&Photo", "Culling", checkable=True, checked=True,
           title="Auto-advance after a decision"),
    # Photo > Stars, Photo > Colour label
    *(Action(f"stars_{n}", f"{n} star{'s' * (n != 1)} on the current or selected photos (compare: both photos)"
             if n else "No stars: remove the rating", (key,), lambda w, n=n: w.culling.rate(n), "&Photo",
             "Stars and labels", title=f"{'★' * n}" if n else "No stars", submenu="Stars", separator=n == 0)
      for key, n in STAR_KEYS.items()),
    *(Action(f"label_{color}", f"{color.capitalize()} colour label ({key} again removes it)", (key,),
             lambda w, color=color: w.culling.label(color), "&Photo", "Stars and labels",
             title=color.capitalize(), submenu="Colour label")
      for key, color in LABEL_KEYS.items()),
    # View
    Action("grid", "Back to the grid (in full screen: leave full screen)", ("G", "Esc"), lambda w: w.viewing.back(),
           "&View", "Views", title="Back to the grid"),
    Action("loupe", "Loupe: the photo large, with the EXIF panel", ("Space", "E"), lambda w: w.toggle_loupe(),
           "&View", "Views", title="Loupe"),
    Action("compare", "Compare: the two selected photos, else the most informative pair", ("C",),
           lambda w: w.start_compare(), "&View", "Views", title="Compare two photos"),
    Action("survey", "Survey: the 2-8 selected photos, or the current stack, side by side; eliminate until the best "
           "remain", ("N",), lambda w: w.modes["survey"].start(), "&View", "Views", title="Survey"),
    Action("zoom", "Loupe/compare/survey: toggle fit and 100% (synchronised)", ("Z",), lambda w: w.mode.zoom(),
           "&View", "Views", separator=True, title="Zoom: fit or 100%"),
    Action("fullscreen", "Full screen: the loupe or compare fills the screen (from the grid, the current photo's "
           "loupe); Esc leaves", ("F",), lambda w: w.viewing.toggle_fullscreen(), "&View", "Views", title="Full screen"),
    Action("info", "Loupe: show or hide the histogram and EXIF panel", ("I",), lambda w: w.viewing.toggle_info(),
           "&View", "Views", title="Histogram and EXIF panel in the loupe"),
    Action("clipping", "Loupe: mark clipped highlights (red) and shadows (blue) on the photo", ("J",),
           lambda w, on: w.viewing.show_clipping(on), "&View", "Views", checkable=True, title="Show clipping"),
    Action("second_window", "A second window that shows the current photo large (for a second screen)", (),
           lambda w, on: w.viewing.show_second(on), "&View", checkable=True, title="Second window"),
    Action("freeze", "Compare: freeze the champion; challengers come one by one", ("H",),
           lambda w: w.mode is w.modes["compare"] and w.mode.toggle_freeze(), "&View", "Views",
           title="Freeze the champion (compare)"),
    Action("skip_pair", "Compare, champion frozen: pass over this challenger (Down)", (), lambda w: w.compare.skip(),
           "&View", title="Next challenger (compare)"),
    Action("stack", "Open or close the current stack (a burst shown as one cell, its best frame)", ("S",),
           lambda w: w.browser.stacks.toggle_current(), "&View", "Grid", separator=True, title="Open or close the stack"),
    Action("collapse_stacks", "Show every stack collapsed into its best frame (with the frame count), or every "
           "frame (toggle)", ("Shift+S",), lambda w, on: w.browser.stacks.set_collapsed(on), "&View", "Grid",
           checkable=True, checked=True, title="Collapse stacks"),
    Action("bigger", "Larger thumbnails", ("=", "+"), lambda w: _bump(w, 32), "&View", "Grid", separator=True),
    Action("smaller", "Smaller thumbnails", ("-",), lambda w: _bump(w, -32), "&View", "Grid"),
    Action("sort_time", "Sort by capture time", ("Ctrl+1",), lambda w: w.filters.sort_combo.setCurrentIndex(0),
           "&View", "Grid"),
    Action("sort_score", "Sort by keeper score (highest first)", ("Ctrl+2",),
           lambda w: w.filters.sort_combo.setCurrentIndex(1), "&View", "Grid", title="Sort by keeper score"),
    Action("find", "Find: type in the filter bar (file name, camera, lens; Enter gives the keyboard back to the "
           "grid)", ("Ctrl+F",), lambda w: w.filters.find.focus(), "&View", "Grid", separator=True, title="Find…"),
    Action("save_filter", "Save the filter bar's filters as a saved filter, listed beside the sessions", (),
           lambda w: w.filters.find.ask_save(), "&View", title="Save filter…"),
    Action("clear_filters", "Clear the filter bar", (), lambda w: w.filters.find.clear(), "&View",
           title="Clear the filter bar"),
    Action("focus_sessions", "Go to the session list (arrows choose a session; Enter or a click gives the keyboard "
           "back to the grid)", ("Ctrl+L",), lambda w: w.sessions.setFocus(), "&View", "Grid",
           title="Go to the session list"),
    # Model
    Action("retrain", "Model: retrain now, then re-score", ("Ctrl+R",), lambda w: w.jobs.retrain(), "&Model",
           "Model and library", title="Retrain now"),
    Action("rescore", "Model: re-score every photo with the active model", ("Ctrl+Shift+R",),
           lambda w: w.jobs.rescore(), "&Model", "Model and library", title="Re-score every photo"),
    Action("metrics", "How well the keeper model knows your taste, tested again on today's photos", (),
           lambda w: w.jobs.show_metrics(), "&Model", title="Model quality…"),
    Action("explain", "The rule or model behind the current photo's score", (), lambda w: w.jobs.explain_current(),
           "&Model", title="Explain this score…"),
    Action("review", "Keeper review: matches that need a decision", ("Ctrl+K",), lambda w: w.open_review(),
           "&Model", "Model and library", separator=True, title="Keeper review…"),
    Action("drafts", "Issue drafts: the model's proposals in sequence, to reorder, thin, swap, sequence, approve "
           "and export", (), _drafts, "&Model", title="Issue drafts…"),
    Action("watch_inbox", "Watch the inbox folder for new photos", (), lambda w, on: w.jobs.watch_inbox(on),
           "&Model", title="Watch the inbox folder", checkable=True, separator=True),
    Action("scan_inbox", "Look for new photos in the inbox folder now", (), lambda w: w.jobs.scan_inbox(), "&Model",
           title="Scan the inbox now"),
    # Help
    Action("keymap", "This key map", ("F1",), lambda w: w.show_keymap(), "&Help", "Model and library"),
    Action("about", "The version, the library folder and the log file", (), lambda w: w.show_about(), "&Help",
           title="About fluxcull"),
)
BY_ID: dict[str, Action] = {a.id: a for a in ACTIONS}

# keys handled by the views themselves (not window-wide shortcuts)
VIEW_KEYS: list[tuple[str, str]] = [
    ("P / X / U", "Always act on the grid's current photo (or the photo shown large), wherever the keyboard is"),
    ("Click a session", "The grid takes the keyboard: the arrows move in the grid, not in the session list"),
    ("Arrows", "Grid: move; loupe: previous/next photo"),
    ("Home / End", "Grid: first / last photo"),
    ("PgUp / PgDn", "Grid: a screenful up / down"),
    ("Left / Right", "Compare: the left / the right photo is the better one (records a preference)"),
    ("Down", "Compare, champion frozen: pass over this challenger"),
    ("/ or Delete", "Survey: eliminate the current photo (the others are preferred over it); a click on its × too"),
    ("Enter", "Survey: keep the photos that remain and go back to the grid"),
    ("Arrows (survey)", "Survey: the next photo; a click chooses one, its ✔ and ✖ keep and reject it"),
    ("Mouse wheel", "Loupe/compare: zoom around the pointer; drag to pan"),
]


def rows(keys: dict[str, tuple[str, ...]] | None = None) -> list[tuple[str, str, str, str]]:
    """(section, keys, description, action id) for every keyed action, by section, in declaration
    order, then the views' own keys (no id); `keys`: the keys in effect (action id -> keys; default:
    the declared ones)."""
    out = []
    for section in SECTIONS:
        for a in ACTIONS:
            have = keys.get(a.id, a.keys) if keys is not None else a.keys
            if a.section == section and have:
                out.append((section, " / ".join(have), a.help, a.id))
    for view_keys, text in VIEW_KEYS:
        out.append(("Moving and choosing", view_keys, text, ""))
    return out


def keymap_markdown(keys: dict[str, tuple[str, ...]] | None = None) -> str:
    lines = ["# fluxcull key map", "", "| Section | Keys | Action | Id |", "|---|---|---|---|"]
    for section, have, text, action_id in rows(keys):
        lines.append(f"| {section} | `{have}` | {text} | {f'`{action_id}`' if action_id else ''} |")
    lines += ["", "Your own keys go in `keymap.toml` (README, \"Your own keys\"): `[keys]`, then `id = \"Key\"` "
              "with an id above or one of these menu actions without a default key: "
              + ", ".join(f"`{a.id}`" for a in ACTIONS if not a.keys and not a.standard) + "."]
    return "\n".join(lines) + "\n"
