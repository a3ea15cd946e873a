"""Desktop integration on Linux and other freedesktop.org systems: the menu launcher, the icons and
the AppStream metadata, installed into the user's XDG data folder (`$XDG_DATA_HOME`, else
`~/.local/share`) and removed again.

The files come from the installed package (`fluxcull/resources/`). The launcher's `Exec` names the
absolute path of the `fluxcull` executable that runs this code, so the menu starts this very install.
A manifest (`fluxcull/desktop-install.json` in the data folder) records the files written and the
folders created; `uninstall` removes exactly those, and folders only when they are left empty.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from importlib import resources
from pathlib import Path

from fluxcull.errors import InvalidValue, UserError

APP_ID = "io.github.fluxcull"
ICON_SIZES = (48, 128, 256)
MANIFEST = Path("fluxcull") / "desktop-install.json"


def data_home() -> Path:
    """`$XDG_DATA_HOME`, else `~/.local/share` (an empty or relative value is ignored, as the spec says)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def executable() -> list[str]:
    """The command line that starts this fluxcull: the frozen binary, the `fluxcull` script beside
    the running interpreter, the one on PATH, else `python -m fluxcull`."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    beside = Path(sys.executable).parent / "fluxcull"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside.absolute())]
    found = shutil.which("fluxcull")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "fluxcull"]


def quote_exec_arg(arg: str) -> str:
    """One argument of a desktop entry's Exec key, quoted as the Desktop Entry spec asks, then
    escaped for the file's string syntax."""
    if any(c in arg for c in "\t\n\r"):
        raise InvalidValue(f"the fluxcull executable's path holds a control character: {arg!r}")
    reserved = set(' \'"`$\\<>~|&;*?#()')
    if any(c in reserved for c in arg):
        inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        arg = f'"{inner}"'
    return arg.replace("\\", "\\\\").replace("%", "%%")


def desktop_entry(command: list[str]) -> str:
    """The packaged desktop entry with `Exec` and `TryExec` pointing at `command`."""
    text = resources.files("fluxcull.resources").joinpath(f"{APP_ID}.desktop").read_text(encoding="utf-8")
    exec_line = " ".join(quote_exec_arg(a) for a in command) + " gui"
    lines = []
    for line in text.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_line}"
        elif line.startswith("TryExec="):
            line = f"TryExec={command[0]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def planned_files(base: Path) -> dict[Path, bytes]:
    """Every file install writes, by destination, with its bytes (the launcher's for this install)."""
    pkg = resources.files("fluxcull.resources")
    icons = pkg.joinpath("icons")
    files = {
        base / "applications" / f"{APP_ID}.desktop": desktop_entry(executable()).encode("utf-8"),
        base / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg": icons.joinpath("fluxcull.svg").read_bytes(),
        base / "metainfo" / f"{APP_ID}.metainfo.xml": pkg.joinpath(f"{APP_ID}.metainfo.xml").read_bytes(),
    }
    for size in ICON_SIZES:
        files[base / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"] = \
            icons.joinpath(f"fluxcull-{size}.png").read_bytes()
    return files


def _read_manifest(base: Path) -> dict:
    path = base / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"files": [], "dirs": []}
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {path}: {exc}; remove it by hand to start again") from exc
    return {"files": list(data.get("files", [])), "dirs": list(data.get("dirs", []))}


def install(base: Path | None = None) -> dict:
    """Write the launcher, the icons and the metainfo; returns {data_home, files, exec}. Installing
    again overwrites the same files (a new Exec path after a reinstall elsewhere)."""
    base = Path(base) if base is not None else data_home()
    manifest = _read_manifest(base)
    created = list(manifest["dirs"])
    files = planned_files(base)
    for dest in [*files, base / MANIFEST]:
        missing = []
        parent = dest.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for d in reversed(missing):
            d.mkdir()
            created.append(str(d))
    written = sorted(set(manifest["files"]) | {str(p) for p in files})
    for dest, data in files.items():
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
    (base / MANIFEST).write_text(json.dumps({"files": written, "dirs": created}, indent=1), encoding="utf-8")
    return {"data_home": str(base), "files": [str(p) for p in files], "exec": executable()}


def uninstall(base: Path | None = None) -> dict:
    """Remove the files install wrote (as its manifest lists them, else the files it would write) and
    the folders it created, where they are empty. Returns {data_home, removed}."""
    base = Path(base) if base is not None else data_home()
    manifest = _read_manifest(base)
    names = manifest["files"] or [str(p) for p in planned_files(base)]
    removed = []
    for name in names:
        try:
            Path(name).unlink()
        except FileNotFoundError:
            continue
        removed.append(name)
    (base / MANIFEST).unlink(missing_ok=True)
    for d in sorted(manifest["dirs"], key=lambda s: -len(Path(s).parts)):
        try:
            Path(d).rmdir()
        except OSError:
            pass  # not empty (another application's files, a library) or already gone
    return {"data_home": str(base), "removed": removed}
