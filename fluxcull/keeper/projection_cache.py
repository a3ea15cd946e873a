"""The active model's embedding projection of every photo, kept beside the model version so that
scoring need not read and project every embedding again.

Scoring 400,000 photos read 1 GB of float16 embeddings, converted them and projected them on the
model's 256 principal components: about two thirds of a full scoring pass on two cores. Training
computes exactly that projection, so it is saved with the version it belongs to (a projection is
only valid for the transform fitted at that training), in `<version folder>/projection/`:

| file | content |
| --- | --- |
| `ids.npy` | int64 photo ids, ascending |
| `keys.npy` | int64 embedding key per photo: store row << 32 | CRC-32 of the vector (`embedding_keys`) |
| `z.npy` | float32 (n x components): the projection, memory-mapped when read |
| `adjacent.npy` | float32 (n x 2): cosines of the photo's embedding to the previous photo's and the one before (the bursts' inputs; an older cache: n) |
| `prev.npy` | int64: the id of that previous photo (-1: none) |

A photo's cached values are used only while its embedding is the very vector they were computed
from (same store row and checksum; a vector stored before checksums never matches), and its
`adjacent` only while the photo before it (and for the second column, the one before that) is the
same photo, unchanged too. Everything else is projected from the store as before. The projection is
kept in float32, exactly as computed: a photo's score never depends on whether it came from the
cache (trees react to the last bits of an input; float16 copies moved some scores). Only the active
version keeps its cache (about 400 MB per 400,000 photos); a missing or unreadable cache just means
a slower pass.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fluxcull.keeper import version_cache

FOLDER = "projection"
_FILES = ("ids", "keys", "z", "adjacent", "prev")
log = logging.getLogger(__name__)


def embedding_keys(rows: np.ndarray, checksums: np.ndarray) -> np.ndarray:
    """One int64 per stored vector: its row and its CRC-32 (-1 where no checksum was recorded)."""
    rows = np.asarray(rows, np.int64)
    sums = np.asarray(checksums, np.int64)
    return np.where(sums >= 0, (rows << 32) | (sums & 0xFFFFFFFF), -1)


@dataclass
class ProjectionCache:
    ids: np.ndarray
    keys: np.ndarray
    z: np.ndarray
    adjacent: np.ndarray
    prev: np.ndarray

    @property
    def n_components(self) -> int:
        return int(self.z.shape[1])

    def lookup(self, ids: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Cache position of each photo whose embedding is unchanged, else -1."""
        ids = np.asarray(ids, np.int64)
        if len(self.ids) == 0 or len(ids) == 0:
            return np.full(len(ids), -1, np.int64)
        at = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        ok = (self.ids[at] == ids) & (self.keys[at] == np.asarray(keys, np.int64)) & (np.asarray(keys) >= 0)
        return np.where(ok, at, -1)


def save(version_folder: Path, ids, keys, z: np.ndarray, adjacent, prev) -> None:
    """Write the cache of a version (atomically: a folder renamed into place)."""
    def fill(folder: Path) -> None:
        arrays = {"ids": np.asarray(ids, np.int64), "keys": np.asarray(keys, np.int64),
                  "adjacent": np.asarray(adjacent, np.float32), "prev": np.asarray(prev, np.int64)}
        for name, a in arrays.items():
            version_cache.save_array(folder / f"{name}.npy", a)
        out = np.lib.format.open_memmap(folder / "z.npy", mode="w+", dtype=np.float32, shape=z.shape)
        for s in range(0, len(z), 65536):  # z may be a column slice of the model inputs: no full copy
            out[s:s + 65536] = z[s:s + 65536]
        out.flush()
        del out
        with open(folder / "z.npy", "rb+") as fh:
            os.fsync(fh.fileno())

    version_cache.replace_folder(version_folder, FOLDER, fill)


def load(version_folder: Path | None) -> ProjectionCache | None:
    """The cache of a version, or None (none written, or unreadable: then scoring projects afresh)."""
    if version_folder is None or not (Path(version_folder) / FOLDER).is_dir():
        return None
    folder = Path(version_folder) / FOLDER
    try:
        a = {name: np.load(folder / f"{name}.npy", allow_pickle=False, mmap_mode="r" if name == "z" else None)
             for name in _FILES}
        n = len(a["ids"])
        if (a["z"].ndim != 2 or len(a["z"]) != n or any(len(a[k]) != n for k in ("keys", "adjacent", "prev"))
                or a["z"].dtype != np.float32 or (n > 1 and not (np.diff(a["ids"]) > 0).all())):
            raise ValueError("inconsistent arrays")
    except (OSError, ValueError) as exc:
        log.warning("projection cache %s unreadable (%s): projecting every embedding instead", folder, exc)
        return None
    return ProjectionCache(**a)


def prune(models_dir: Path, keep: Path) -> None:
    """Remove the caches of every version but `keep` (only the active version's is ever read)."""
    version_cache.prune(models_dir, keep, FOLDER)
