"""The active model's own raw score of every photo, kept beside the model version with a checksum of
the photo's model inputs, so that a scoring pass predicts only the photos whose inputs changed.

Predicting 400,000 photos with the trees takes 5-8 s on two cores, and training used to do it twice
(once to place the corpus quantiles, once more to store the scores); `fluxcull score` did it all
again although nothing had changed. A photo's own part of the raw score (everything but the burst
choice's term, which depends on its burst-mates and is cheap) is a function of its input row alone,
so it is stored under a checksum of that row: 64 bits mixing every float32 input, the embedding
projection and the standardised features and context inputs (`row_keys`). A photo whose session,
burst, features or embedding moved gets another checksum and is predicted again; the scores read
from the cache are the very numbers that were computed (float64, exact).

`<version folder>/raw_scores/`: `keys.npy` (uint64 checksums, ascending, unique) and `raw.npy`
(float64 own raw score per checksum). Only the active version keeps one; a missing or unreadable
cache just means every photo is predicted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fluxcull.keeper import version_cache

FOLDER = "raw_scores"
_CHUNK = 2048  # rows per step: small temporaries (a 50 MB one, allocated afresh each step, took 3-5x longer)
log = logging.getLogger(__name__)


def _multipliers(width: int) -> np.ndarray:
    """Fixed odd 64-bit multipliers, one per input column (the same in every process and version)."""
    return np.random.default_rng(0x5C0CE).integers(1, 2 ** 63, size=width, dtype=np.uint64) | np.uint64(1)


def row_keys(x: np.ndarray) -> np.ndarray:
    """uint64 checksum of each float32 row of x: sum over columns of bits(x_ij) * m_j, modulo 2^64.
    Rows differing in one value always differ (m_j is odd); otherwise a collision has odds of about
    one in 2^64."""
    x = np.ascontiguousarray(x, np.float32)
    m = _multipliers(x.shape[1])
    out = np.empty(len(x), np.uint64)
    with np.errstate(over="ignore"):
        for s in range(0, len(x), _CHUNK):
            block = x[s:s + _CHUNK].view(np.uint32).astype(np.uint64)
            block *= m
            out[s:s + _CHUNK] = block.sum(axis=1, dtype=np.uint64)
    return out


@dataclass
class RawScoreCache:
    keys: np.ndarray   # uint64, ascending, unique
    raw: np.ndarray    # float64, the own raw score of the row with that checksum

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(hit bool per key, the cached score where hit, else NaN)."""
        keys = np.asarray(keys, np.uint64)
        if len(self.keys) == 0 or len(keys) == 0:
            return np.zeros(len(keys), bool), np.full(len(keys), np.nan)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        hit = self.keys[at] == keys
        return hit, np.where(hit, self.raw[at], np.nan)


def save(version_folder: Path, keys: np.ndarray, raw: np.ndarray) -> None:
    """Write the cache of a version (atomically: a folder renamed into place)."""
    keys = np.asarray(keys, np.uint64)
    raw = np.asarray(raw, np.float64)
    ok = np.isfinite(raw)
    u, first = np.unique(keys[ok], return_index=True)

    def fill(folder: Path) -> None:
        version_cache.save_array(folder / "keys.npy", u)
        version_cache.save_array(folder / "raw.npy", raw[ok][first])

    version_cache.replace_folder(version_folder, FOLDER, fill)


def load(version_folder: Path | None) -> RawScoreCache | None:
    """The cache of a version, or None (none written, or unreadable: every photo is predicted)."""
    if version_folder is None or not (Path(version_folder) / FOLDER).is_dir():
        return None
    folder = Path(version_folder) / FOLDER
    try:
        keys = np.load(folder / "keys.npy", allow_pickle=False)
        raw = np.load(folder / "raw.npy", allow_pickle=False)
        if (keys.dtype != np.uint64 or raw.dtype != np.float64 or keys.shape != raw.shape or keys.ndim != 1
                or (len(keys) > 1 and not (keys[1:] > keys[:-1]).all())):
            raise ValueError("inconsistent arrays")
    except (OSError, ValueError) as exc:
        log.warning("raw score cache %s unreadable (%s): predicting every photo instead", folder, exc)
        return None
    return RawScoreCache(keys, raw)


def prune(models_dir: Path, keep: Path) -> None:
    """Remove the caches of every version but `keep` (only the active version's is ever read)."""
    version_cache.prune(models_dir, keep, FOLDER)
