"""Export a backbone to ONNX once, verify it against torch, and cache it in the library.

The file lives at `<library>/cache/onnx/<name>-v<version>-opset<N>.onnx`, written to a temporary
name and renamed only after ONNX Runtime reproduced the torch embeddings of a fixed check batch to
within `TOLERANCE` (max absolute difference of the L2-normalised vectors). A sidecar JSON records
the check and the file's SHA-256; a cached file that does not match its recorded hash (damaged,
truncated, replaced) or whose record is missing is exported again. Delete the folder to force a
fresh export. Without a library the cache is not kept at all (a temporary folder is used).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from fluxcull.embedding.backbones import Backbone
from fluxcull.embedding.preprocess import l2_normalize, normalize

OPSET = 17
TOLERANCE = 1e-4

log = logging.getLogger(__name__)


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

    from fluxcull.embedding.torch_model import build_torch_model

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
        ort = import_onnxruntime(path.parent.parent)
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
              "torch": torch.__version__, "onnxruntime": ort.__version__, "sha256": file_sha256(path),
              "size": path.stat().st_size}
    side = path.with_suffix(".json")
    tmp_side = side.with_name(side.name + f".tmp{os.getpid()}")
    tmp_side.write_text(json.dumps(record, indent=2))
    os.replace(tmp_side, side)
    return record


def import_onnxruntime(cache_dir: Path | None = None):
    """onnxruntime, imported so that the files it writes on import (a telemetry device id under
    $XDG_CACHE_HOME, else ~/.cache) go into the library's cache instead of the user's home."""
    import sys

    if "onnxruntime" in sys.modules:
        return sys.modules["onnxruntime"]
    target = Path(cache_dir) if cache_dir is not None else Path(tempfile.mkdtemp(prefix="fluxcull-ort-"))
    target = target / "onnxruntime"
    old = os.environ.get("XDG_CACHE_HOME")
    try:
        target.mkdir(parents=True, exist_ok=True)
        os.environ["XDG_CACHE_HOME"] = str(target)
    except OSError:
        pass
    try:
        import onnxruntime
    finally:
        if old is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = old
    return onnxruntime


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: Path) -> tuple[bool, str]:
    """Whether a cached ONNX file matches the SHA-256 its record holds, and why not."""
    path = Path(path)
    side = path.with_suffix(".json")
    if not path.is_file():
        return False, "missing"
    try:
        record = json.loads(side.read_text(encoding="utf-8"))
        want = record["sha256"]
    except FileNotFoundError:
        return False, "its record (.json) is missing"
    except (OSError, ValueError, KeyError, TypeError):
        return False, "its record (.json) is damaged or has no hash"
    if not isinstance(want, str):
        return False, "its record (.json) is damaged or has no hash"
    if record.get("size") is not None and path.stat().st_size != record.get("size"):
        return False, f"its size {path.stat().st_size} is not the recorded {record.get('size')}"
    if file_sha256(path) != want:
        return False, "its SHA-256 is not the recorded one (damaged or replaced)"
    return True, "ok"


def ensure_onnx(backbone: Backbone, cache_dir: Path | None = None) -> Path:
    """The cached, verified ONNX file of the backbone, exporting it on first use and again when the
    cached file does not match its recorded hash. Without `cache_dir` (no library) the export goes to
    a temporary folder of this process, so nothing is written under the user's home."""
    if cache_dir is None:
        cache_dir = Path(tempfile.mkdtemp(prefix="fluxcull-onnx-"))
    path = onnx_path(backbone, cache_dir)
    ok, why = verify_file(path)
    if not ok:
        if path.exists() or path.with_suffix(".json").exists():
            log.warning("ONNX cache %s is not usable (%s): exporting it again", path, why)
        export_onnx(backbone, path)
    return path
