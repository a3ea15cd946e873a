"""A person's own keys: the key map file, read once when the window opens.

Where it is read: the file named by the environment variable FLUXCULL_KEYMAP (set but empty: no
file), else `keymap.toml` in the user configuration folder (platformdirs: `~/.config/fluxcull/` on
Linux, `~/Library/Application Support/fluxcull/` on macOS, `%LOCALAPPDATA%\\fluxcull\\` on Windows).
The keys are a person's, not a library's: every library opens with them.

    # keymap.toml: action id = a key, or a list of keys ([] leaves the action without one)
    [keys]
    keep = "K"
    reject = ["X", "Delete"]
    fullscreen = "F11"

The action ids are those of Help ▸ Keyboard shortcuts and `resources/keymap.md` (fluxcull.ui.keymap,
where the defaults are declared, once). Each entry is checked on its own: an unknown action id, a value
that is not key text, a key Qt cannot read (`Ctrl+Foo`), a key the views handle themselves (the arrows,
Home/End, PgUp/PgDown, Return) or a key another entry of the file already took is a warning naming
the entry, and that action keeps its default keys. A key the file gives to one action is taken from the
action that had it by default. A file that is not TOML is a warning; every default stays.

No Qt here: `load` is given the function that checks and normalises a key (fluxcull.ui.actions).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from fluxcull.ui.keymap import ACTIONS, BY_ID

log = logging.getLogger(__name__)

KEYMAP_ENV = "FLUXCULL_KEYMAP"
KEYMAP_FILE = "keymap.toml"
VIEW_OWN_KEYS = frozenset({"Left", "Right", "Up", "Down", "Home", "End", "PgUp", "PgDown", "Return", "Enter"})


@dataclass
class KeyMap:
    keys: dict[str, tuple[str, ...]]                # action id -> its keys now
    path: Path | None = None                        # the file looked for (None: none)
    read: bool = False                              # the file was there and read
    warnings: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)  # the actions the file set


def keymap_path() -> Path | None:
    env = os.environ.get(KEYMAP_ENV)
    if env is not None:
        return Path(env).expanduser() if env.strip() else None
    import platformdirs

    return Path(platformdirs.user_config_dir("fluxcull", appauthor=False)) / KEYMAP_FILE


def defaults() -> dict[str, tuple[str, ...]]:
    return {a.id: tuple(a.keys) for a in ACTIONS}


def load(path: Path | None, normalise: Callable[[str], str | None]) -> KeyMap:
    """The effective keys: the defaults with the file's valid entries put in (see the module text).
    `normalise(text)` gives Qt's portable text of a key sequence, or None when it is none."""
    km = KeyMap(keys=defaults(), path=path)
    if path is None or not path.is_file():
        return km
    import tomllib  # only when there is a file: most windows open without one

    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        km.warnings.append(f"{path}: not read ({exc}); every key is the default")
        _log(km)
        return km
    km.read = True
    table = data.get("keys", {})
    for extra in (k for k in data if k != "keys"):
        km.warnings.append(f"{where}: [{extra}] is not a section of the key map (only [keys]); left out")
    if not isinstance(table, dict):
        km.warnings.append(f"{where}: keys must be a table ([keys] with lines action = \"Key\"); every key is the default")
        _log(km)
        return km
    taken: dict[str, str] = {}  # key -> the entry of the file that has it
    for action_id, value in table.items():
        problem, keys = _entry(action_id, value, normalise, taken)
        if problem:
            km.warnings.append(f"{where}: {action_id} = {value!r}: {problem}; "
                               + (f"{action_id} keeps {_keys_text(km.keys[action_id])}" if action_id in BY_ID
                                  else "left out"))
            continue
        for k in keys:
            taken[k] = action_id
        km.keys[action_id] = keys
        km.changed.add(action_id)
    for action_id, keys in km.keys.items():  # a key the file gave away leaves its default owner
        if action_id not in km.changed:
            km.keys[action_id] = tuple(k for k in keys if (normalise(k) or k) not in taken)
    _log(km)
    return km


def _entry(action_id: str, value, normalise, taken: dict[str, str]) -> tuple[str | None, tuple[str, ...]]:
    """(the problem with one entry, or None; its normalised keys)."""
    if action_id not in BY_ID:
        import difflib

        close = difflib.get_close_matches(action_id, BY_ID, n=1)
        return ("no action has this id" + (f" (did you mean {close[0]}?)" if close else "")
                + " - see Help > Keyboard shortcuts"), ()
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        return "give a key as text (\"K\") or a list of them ([\"K\", \"Ctrl+K\"])", ()
    keys: list[str] = []
    for text in texts:
        key = normalise(text.strip()) if text.strip() else None
        if key is None:
            return f"{text!r} is not a key Qt can read (e.g. \"K\", \"Shift+J\", \"Ctrl+Alt+F\", \"F11\")", ()
        if key in VIEW_OWN_KEYS:
            return f"{key} is used by the views themselves (moving in the grid, loupe and compare)", ()
        if key in taken:
            return f"{key} is already given to {taken[key]} above", ()
        if key not in keys:
            keys.append(key)
    return None, tuple(keys)


def _keys_text(keys: tuple[str, ...]) -> str:
    return " / ".join(keys) if keys else "no key"


def _log(km: KeyMap) -> None:
    for w in km.warnings:
        log.warning("key map: %s", w)
    if km.changed:
        log.info("key map: %s set %s", km.path, ", ".join(sorted(km.changed)))
