"""Running a backbone on batches: device choice, CPU thread cap, and the runtimes.

A runner maps a batch of square uint8 images (n, S, S, 3) to L2-normalised float32 embeddings
(n, dim). Runtimes:

| runtime | what | default on |
| --- | --- | --- |
| onnx | ONNX Runtime (CPU), the model exported once and cached in the library | CPU (fastest measured) |
| onnx (int8) | ONNX Runtime (CPU), the statically quantized model (fluxcull.embedding.quantize); for a backbone's `+int8` variant | CPU with VNNI/AVX2, see fluxcull.embedding.precision |
| torch | torch eager, batch-norm folded, channels_last; fp16 autocast on CUDA | CUDA, MPS |
| torch-fp32 | torch eager in float32 everywhere (the reference) | - |

`auto` picks the default for the selected device. On the CPU, torch and ONNX Runtime use at most
`cpu_threads()` threads: all cores but one, so the GUI stays responsive while a job runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from fluxcull.embedding.backbones import Backbone
from fluxcull.embedding.preprocess import l2_normalize, normalize
from fluxcull.embedding.torch_model import build_torch_model

RUNTIMES = ("auto", "torch", "torch-fp32", "onnx")
THREADS_ENV = "FLUXCULL_THREADS"


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def cpu_threads() -> int:
    """Threads for CPU inference: $FLUXCULL_THREADS, else all cores but one (at least one)."""
    env = os.environ.get(THREADS_ENV)
    if env and env.strip().isdigit() and int(env) > 0:
        return int(env)
    return max(1, available_cores() - 1)


def select_device(prefer: str | None = None) -> str:
    """'cuda' if a CUDA GPU is usable, else 'mps' (Apple), else 'cpu'; `prefer` forces one."""
    import torch

    if prefer and prefer != "auto":
        if prefer == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' requested but no CUDA GPU is available")
        if prefer == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ValueError("device 'mps' requested but Apple MPS is not available")
        return prefer
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def default_runtime(device: str) -> str:
    return "onnx" if device == "cpu" else "torch"


def default_batch_size(device: str) -> int:
    return 128 if device == "cuda" else 32


@dataclass
class RunnerInfo:
    runtime: str
    device: str
    precision: str
    threads: int | None


class TorchRunner:
    def __init__(self, model, backbone: Backbone, device: str, *, precision: str = "fp32",
                 channels_last: bool = True, threads: int | None = None, compile: bool = False,
                 label: str = "torch"):
        import torch

        if device == "cpu":
            torch.set_num_threads(threads or cpu_threads())
        self.torch = torch
        self.backbone = backbone
        self.device = torch.device(device)
        self.precision = precision
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = model.to(self.device).eval()
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        if compile:
            self.model = torch.compile(self.model)
        self.info = RunnerInfo(label, device, precision, (threads or cpu_threads()) if device == "cpu" else None)
        mean, std = ((127.5,) * 3, (127.5,) * 3) if backbone.normalization == "tf" else (
            (0.485 * 255, 0.456 * 255, 0.406 * 255), (0.229 * 255, 0.224 * 255, 0.225 * 255))
        self.mean = torch.tensor(mean, device=self.device).view(1, 3, 1, 1)
        self.scale = 1.0 / torch.tensor(std, device=self.device).view(1, 3, 1, 1)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device, non_blocking=True)
            # uint8 NHWC -> float NCHW (a channels_last view: no copy), normalised on the device
            x = x.permute(0, 3, 1, 2).float().sub_(self.mean).mul_(self.scale)
            x = x.contiguous(memory_format=self.memory_format)
            if self.precision in ("fp16", "bf16"):
                dtype = torch.float16 if self.precision == "fp16" else torch.bfloat16
                with torch.autocast(self.device.type, dtype=dtype):
                    y = self.model(x)
            else:
                y = self.model(x)
            y = torch.nn.functional.normalize(y.float(), dim=1)
            return y.cpu().numpy()


class OnnxRunner:
    def __init__(self, path, backbone: Backbone, *, threads: int | None = None):
        """`path` is the float32 or, for a backbone's int8 variant, the quantized model."""
        from pathlib import Path

        from fluxcull.embedding.onnx_backend import import_onnxruntime

        ort = import_onnxruntime(Path(path).parent.parent)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or cpu_threads()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if backbone.precision == "int8":  # exact int8 convolutions on CPUs without VNNI (see quantize)
            from fluxcull.embedding.quantize import int8_session_options

            int8_session_options(ort, opts)
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.backbone = backbone
        self.info = RunnerInfo("onnx", "cpu", backbone.precision, opts.intra_op_num_threads)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        x = normalize(batch, self.backbone.normalization)
        y = self.session.run(None, {self.input_name: x})[0]
        return l2_normalize(y)


def make_runner(backbone: Backbone, *, runtime: str = "auto", device: str | None = None, lib=None,
                threads: int | None = None, compile: bool = False):
    """A runner for the backbone on the chosen (or best available) device and runtime."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")
    if backbone.precision == "int8":
        return _int8_runner(backbone, runtime, lib, threads)
    device = select_device(device)
    if runtime == "auto":
        runtime = default_runtime(device)
    if runtime == "onnx":
        if device != "cpu":
            device = "cpu"  # the onnxruntime wheel fluxcull depends on runs on the CPU
        from fluxcull.embedding.onnx_backend import ensure_onnx, export_onnx

        path = ensure_onnx(backbone, cache_dir=(lib.cache_dir if lib is not None else None))
        try:
            return OnnxRunner(path, backbone, threads=threads)
        except Exception as exc:  # onnxruntime's own error types: a cached file it cannot load
            import logging

            logging.getLogger(__name__).warning("ONNX cache %s cannot be loaded (%s): exporting it again", path, exc)
            export_onnx(backbone, path)
            return OnnxRunner(path, backbone, threads=threads)
    model = build_torch_model(backbone)
    if runtime == "torch-fp32":
        return TorchRunner(model, backbone, device, precision="fp32", channels_last=False, threads=threads,
                           compile=compile, label="torch-fp32")
    precision = "fp16" if device == "cuda" else "fp32"
    return TorchRunner(model, backbone, device, precision=precision, channels_last=True, threads=threads,
                       compile=compile)


def _int8_runner(backbone: Backbone, runtime: str, lib, threads: int | None) -> OnnxRunner:
    """The int8 variant runs only as its quantized ONNX model, on the CPU whatever the device."""
    from fluxcull.embedding.quantize import ensure_int8

    if runtime not in ("auto", "onnx"):
        raise ValueError(f"{backbone.id} runs only in ONNX Runtime (runtime onnx or auto), not {runtime!r}")
    return OnnxRunner(ensure_int8(backbone, lib.cache_dir if lib is not None else None), backbone, threads=threads)
