"""The CPU's instruction-set flags: what decides whether int8 inference pays (fluxcull.embedding.precision)
and how ONNX Runtime must run int8 models (fluxcull.embedding.quantize)."""

from __future__ import annotations

import platform

# 8-bit dot products summed in 32 bits
VNNI_FLAGS = ("avx512_vnni", "avx_vnni")


def cpu_flags() -> set[str]:
    """The CPU's instruction-set flags, lower case (empty where they cannot be read)."""
    if platform.system() == "Linux":
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("flags"):
                        return set(line.split(":", 1)[1].split())
        except OSError:
            pass
    try:  # numpy's runtime dispatch table (a private name, hence the guard)
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as feats
        except ImportError:
            return set()
    return {k.lower() for k, v in feats.items() if v}


def vnni_flag() -> str | None:
    """The VNNI flag this CPU reports (8-bit products summed exactly, in 32 bits), or None."""
    flags = cpu_flags()
    return next((f for f in VNNI_FLAGS if f in flags), None)
