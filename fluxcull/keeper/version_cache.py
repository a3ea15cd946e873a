"""What the scoring caches kept beside a model version share (fluxcull.keeper.projection_cache,
fluxcull.keeper.score_cache): a folder of plain .npy arrays written atomically (filled under a
temporary name, then renamed into place), kept for the active version only."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import numpy as np


def save_array(path: Path, a: np.ndarray) -> None:
    """One array as .npy (never pickled), flushed to disk."""
    with open(path, "wb") as fh:
        np.save(fh, np.ascontiguousarray(a), allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())


def replace_folder(version_folder: Path, name: str, fill: Callable[[Path], None]) -> None:
    """`version_folder/name` replaced by what fill(folder) writes into a new folder; a failure leaves the
    old one (or none) and no partial folder."""
    version_folder = Path(version_folder)
    tmp = version_folder / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        fill(tmp)
        shutil.rmtree(version_folder / name, ignore_errors=True)
        os.replace(tmp, version_folder / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def prune(models_dir: Path, keep: Path, name: str) -> None:
    """Remove the `name` folders of every version but `keep` (only the active version's is ever read)."""
    models_dir, keep = Path(models_dir), Path(keep)
    if not models_dir.is_dir():
        return
    for folder in models_dir.iterdir():
        if folder != keep and (folder / name).is_dir():
            shutil.rmtree(folder / name, ignore_errors=True)
