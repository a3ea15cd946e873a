"""Where a library lives and what it holds.

A library is a folder: `catalog.sqlite` plus caches (`thumbs/`, `embeddings/`, `models/`,
`cache/`) and `logs/`. Its location is, in order: `--library DIR`, the `FLUXCULL_LIBRARY`
environment variable, then the platformdirs user data directory.

A library folder must be a library already, or new (missing or empty): fluxcull never turns a
folder holding other files into a library. Commands that only read do not create one.
Jobs that must not overlap (ingest, embed, match, train, score) hold the library's job lock
(`fluxcull.joblock`).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from fluxcull.catalog import connect
from fluxcull.errors import CatalogError, UserError

ENV_VAR = "FLUXCULL_LIBRARY"
CATALOG_NAME = "catalog.sqlite"


def default_library_dir() -> Path:
    return Path(platformdirs.user_data_dir("fluxcull", appauthor=False)) / "library"


def resolve_library_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The library folder: `explicit` (an empty string is an error, never the default), else
    $FLUXCULL_LIBRARY, else the user data directory."""
    if explicit is not None:
        text = os.fspath(explicit)
        if not str(text).strip():
            raise UserError("--library is empty: name the library folder (or leave the option out for the default)")
        return Path(text).expanduser().resolve()
    env = os.environ.get(ENV_VAR)
    if env is not None and env.strip():
        return Path(env).expanduser().resolve()
    return default_library_dir()


def is_library(folder: str | os.PathLike) -> bool:
    """Whether the folder is a fluxcull library (it holds a catalog)."""
    return os.path.isfile(os.path.join(folder, CATALOG_NAME))


def _check_folder(root: Path, create: bool) -> None:
    if root.exists() and not root.is_dir():
        raise UserError(f"the library {root} is a file, not a folder: give --library a folder")
    if is_library(root):
        return
    if root.is_dir():
        try:
            others = [e for e in os.listdir(root) if not e.startswith(".")]
        except PermissionError:
            raise CatalogError(f"the library {root} cannot be read: permission denied") from None
        # the library's own sub-folders (a library whose catalog was removed) are not "other files"
        others = [e for e in others if e not in ("thumbs", "embeddings", "models", "cache", "logs", "export")]
        if others:
            raise UserError(f"{root} is not a fluxcull library and not empty ({len(others)} other entries, "
                            f"e.g. {sorted(others)[0]!r}): give --library a library or a new folder")
    if not create:
        raise UserError(f"there is no fluxcull library at {root} yet: create one with `fluxcull ingest` "
                        "(or check --library / $FLUXCULL_LIBRARY for a typo)")


@dataclass(frozen=True)
class Library:
    root: Path
    readonly: bool = False   # connections open the catalog read-only (commands that only read)

    @classmethod
    def open(cls, explicit: str | os.PathLike | None = None, *, create: bool = True,
             readonly: bool = False) -> "Library":
        """The library at `explicit` (see `resolve_library_dir`). With create=False a library that does
        not exist yet is an error instead of being created."""
        root = resolve_library_dir(explicit)
        _check_folder(root, create)
        if create:
            try:
                root.mkdir(parents=True, exist_ok=True)
            except PermissionError:
                raise CatalogError(f"the library {root} cannot be created: permission denied") from None
            except OSError as exc:
                raise CatalogError(f"the library {root} cannot be created: {exc.strerror or exc}") from None
        return cls(root, readonly)

    @property
    def catalog_path(self) -> Path:
        return self.root / CATALOG_NAME

    @property
    def thumbs_dir(self) -> Path:
        return self.root / "thumbs"

    @property
    def embeddings_dir(self) -> Path:
        return self.root / "embeddings"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    def connect(self) -> sqlite3.Connection:
        return connect(self.catalog_path, readonly=self.readonly)

    def get_setting(self, conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
        from fluxcull.catalog.settings import read_text  # the declarations: loaded when a setting is read

        value = read_text(conn, key)
        return default if value is None else value

    def set_setting(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        from fluxcull.catalog.settings import write_text

        write_text(conn, key, value)
