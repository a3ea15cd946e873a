"""Which precision (float32 or int8) a library's embeddings come from, and the rule behind `auto`
(the CPU's flags: fluxcull.embedding.cpu).

The decision: int8 vectors are NOT float32 vectors. Their cosine similarity to the float32 vector of
the same photo is about 0.99 (0.86 on the worst of 64 real photos; the check of
`fluxcull.embedding.quantize` refuses a model below 0.90 on its fixed batch), which
is more than the noise a keeper model or a near-duplicate threshold should silently absorb. So the
int8 variant is a backbone id of its own (`efficientnet_lite0@1+int8`): its own store, and a keeper
model trained on one variant refuses the other, as with any other backbone. A store never mixes them.

The setting `embed.precision` (fluxcull.catalog.settings), overridden by $FLUXCULL_PRECISION
(benchmarks use it), is one of:

- `fp32` (default): float32. int8 is opt-in until the taste benchmark shows it keeps the keeper
  model's quality (one quick seed cannot: README, "INT8");
- `auto`: a library that already has embeddings keeps the variant it has most of (no
  silent re-embedding after an upgrade or on another machine); a library without any gets int8 on a
  CPU with AVX-512 VNNI or AVX-VNNI (Linux /proc/cpuinfo, else numpy's CPU features) when no GPU
  runs the embedding, and float32 elsewhere (AVX2 alone: see int8_cpu);
- `int8`: that variant; changing between int8 and float32 re-embeds every photo (into the other store) and the
  keeper model has to be trained again, like changing the backbone.

int8 falls back to float32, with the reason logged, when the backbone has no int8 variant or its
quantized model was refused by the check. Readers (scoring, matching) use `read_variant`: the chosen
variant where it has embeddings, else the variant of this backbone with most of them.
"""

from __future__ import annotations

import logging
import os
import platform
import sqlite3

from fluxcull.catalog import embedding_index as index
from fluxcull.catalog.settings import get as get_setting
from fluxcull.embedding import cpu
from fluxcull.embedding.backbones import Backbone

PRECISION_ENV = "FLUXCULL_PRECISION"
SETTING = "embed.precision"
CHOICES = ("auto", "int8", "fp32")

log = logging.getLogger(__name__)


def requested_precision(conn: sqlite3.Connection) -> str:
    """$FLUXCULL_PRECISION when set, else the library's `embed.precision` setting."""
    env = os.environ.get(PRECISION_ENV, "").strip().lower()
    if env:
        if env not in CHOICES:
            raise ValueError(f"{PRECISION_ENV}={env!r}: expected one of {', '.join(CHOICES)}")
        return env
    return get_setting(conn, SETTING)


def int8_cpu() -> str | None:
    """The flag that makes int8 worth it on this CPU (VNNI), or None.

    int8 pays on CPUs with VNNI (8-bit dot products summed in 32 bits: 2-3x float32 per photo). With
    AVX2 alone ONNX Runtime's fast kernel sums pairs in 16 bits and saturates, so int8 models run its
    exact, slower kernel there (fluxcull.embedding.quantize.int8_session_options): 1.2-1.45x float32,
    not worth a second embedding store, so `auto` keeps float32 on those CPUs (`int8` can still be chosen)."""
    if platform.machine().lower() not in ("x86_64", "amd64", "x86", "i686"):
        return None
    return cpu.vnni_flag()


def auto_precision(device: str = "cpu") -> str:
    """int8 on a CPU with VNNI (and no GPU doing the work), else fp32."""
    return "int8" if device == "cpu" and int8_cpu() is not None else "fp32"


def _rows(conn: sqlite3.Connection, bb: Backbone) -> dict[str, int]:
    return {p: index.row_count(conn, bb.with_precision(p).id) for p in ("fp32", "int8")}


def read_variant(conn: sqlite3.Connection, bb: Backbone) -> Backbone:
    """The variant of `bb` whose store the library reads: the requested one where it has embeddings,
    else the one with most, else the requested (auto: this CPU's) one."""
    if not bb.int8:
        return bb
    rows = _rows(conn, bb)
    want = requested_precision(conn)
    if want in ("int8", "fp32") and rows[want]:
        return bb.with_precision(want)
    if any(rows.values()):
        return bb.with_precision(max(("fp32", "int8"), key=lambda p: rows[p]))
    return bb.with_precision(want if want != "auto" else auto_precision())


def write_variant(conn: sqlite3.Connection, bb: Backbone, *, cache_dir=None, device: str = "cpu",
                  runtime: str = "auto") -> Backbone:
    """The variant `embed` writes: see the module docstring. Building (or finding) the checked int8
    model is part of choosing it, so a refused one falls back to float32 before any store is opened."""
    if not bb.int8:
        return bb
    want = "int8" if bb.precision == "int8" else requested_precision(conn)
    if want == "auto":
        rows = _rows(conn, bb)
        if any(rows.values()):
            want = max(("fp32", "int8"), key=lambda p: rows[p])
        else:
            want = auto_precision(device) if runtime in ("auto", "onnx") else "fp32"
    if want == "fp32":
        return bb.with_precision("fp32")
    if runtime in ("torch", "torch-fp32"):
        log.warning("int8 embeddings need the ONNX runtime, not %s: using float32", runtime)
        return bb.with_precision("fp32")
    from fluxcull.embedding.quantize import QuantizationRefused, ensure_int8

    try:
        ensure_int8(bb, cache_dir)
    except QuantizationRefused as exc:
        log.warning("int8 embeddings are not used, float32 instead: %s", exc)
        return bb.with_precision("fp32")
    return bb.with_precision("int8")
