"""Export a backbone to ONNX once, verify it against torch, and cache it in the library.

The file lives at `<library>/cache/onnx/<name>-v<version>-opset<N>.onnx`, written to a temporary
name and renamed only after ONNX Runtime reproduced the torch embeddings of a fixed check batch to
within `TOLERANCE` (max absolute difference of the L2-normalised vectors). A sidecar JSON records
the check. Delete the folder to force a fresh export.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np

from fluxcull.ml.backbones import Backbone
from fluxcull.ml.preprocess import l2_normalize, normalize

OPSET = 17
TOLERANCE = 1e-4


def onnx_path(backbone: Backbone, cache_dir: Path) -> Path:
    safe = backbone.name.replace(":", "_").replace("/", "_")
    return Path(cache_dir) / "onnx" / f"{safe}-v{backbone.version}-opset{OPSET}.onnx"


def check_batch(size: int, n: int = 4) -> np.ndarray:
    """A fixed batch of smooth random colour fields plus noise (n, S, S, 3) uint8."""
    rng = np.random.default_rng(1234)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        base = np.stack([np.sin(6.28 * (rng.uniform(0.5, 3) * xx + rng.uniform(0.5, 3) * yy) + rng.uniform(0, 6))
                         for _ in range(3)], -1)
        out[i] = np.clip(127.5 + 100 * base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    return out


def export_onnx(backbone: Backbone, path: Path) -> dict:
    """Export, check against torch, then move into place. Returns the check record."""
    import torch

    from fluxcull.ml.inference import build_torch_model

    model = build_torch_model(backbone, fuse=False).eval()
    size = backbone.input_size
    batch = check_batch(size)
    x = torch.from_numpy(normalize(batch, backbone.normalization))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x[:1],), str(tmp), input_names=["pixels"], output_names=["features"],
                          dynamic_axes={"pixels": {0: "n"}, "features": {0: "n"}}, opset_version=OPSET,
                          dynamo=False)
    try:
        import onnxruntime as ort

        sess = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        got = l2_normalize(sess.run(None, {"pixels": x.numpy()})[0])
        with torch.inference_mode():
            want = l2_normalize(model(x).float().numpy())
        diff = float(np.abs(got - want).max())
        if not diff <= TOLERANCE:
            raise RuntimeError(f"ONNX export of {backbone.id} differs from torch by {diff:.2e} (> {TOLERANCE:g})")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    record = {"backbone": backbone.id, "opset": OPSET, "max_abs_diff": diff, "tolerance": TOLERANCE,
              "torch": torch.__version__, "onnxruntime": ort.__version__}
    path.with_suffix(".json").write_text(json.dumps(record, indent=2))
    return record


def ensure_onnx(backbone: Backbone, cache_dir: Path | None = None) -> Path:
    """The cached, verified ONNX file of the backbone, exporting it on first use."""
    if cache_dir is None:
        import platformdirs

        cache_dir = Path(platformdirs.user_cache_dir("fluxcull", appauthor=False))
    path = onnx_path(backbone, cache_dir)
    if not path.is_file() or not path.with_suffix(".json").is_file():
        export_onnx(backbone, path)
    return path
