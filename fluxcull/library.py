"""Where a library lives and what it holds.

A library is a folder: `catalog.sqlite` plus caches (`thumbs/`, `embeddings/`, `models/`,
`onnx/`). Its location is, in order: `--library DIR`, the `FLUXCULL_LIBRARY` environment variable,
then the platformdirs user data directory.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from fluxcull.catalog import connect

ENV_VAR = "FLUXCULL_LIBRARY"


def default_library_dir() -> Path:
    return Path(platformdirs.user_data_dir("fluxcull", appauthor=False)) / "library"


def resolve_library_dir(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser().resolve()
    return default_library_dir()


@dataclass(frozen=True)
class Library:
    root: Path

    @classmethod
    def open(cls, explicit: str | os.PathLike | None = None) -> "Library":
        lib = cls(resolve_library_dir(explicit))
        lib.root.mkdir(parents=True, exist_ok=True)
        return lib

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.sqlite"

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

    def connect(self) -> sqlite3.Connection:
        return connect(self.catalog_path)

    def get_setting(self, conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        from fluxcull.catalog import transaction

        with transaction(conn):
            conn.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
