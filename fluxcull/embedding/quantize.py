"""The 8-bit (int8) ONNX model of a backbone: built once from its float32 export, checked, cached.

How it is built: ONNX Runtime's static quantization (`quantize_static`) of the cached float32 export
(fluxcull.embedding.onnx_backend), QOperator format (QLinearConv: measured faster here than QDQ, see
README "INT8 inference"), int8 weights per output channel, uint8 activations whose ranges are the
99.99th percentiles seen on a calibration set of real photographs: the sample photographs inside
scikit-image's wheel (a fluxcull dependency; the same ones the demo library is built from), each
whole and as two 75 % crops. Nothing is downloaded.

The check: before the file is renamed into place, its embeddings of a fixed check batch of real
photographs (the same scenes, mirrored and cropped differently from any calibration input) are
compared with the float32 model's; the sidecar JSON records the mean and minimum cosine similarity,
the calibration set, the float32 file it was made from (SHA-256) and its own SHA-256. A minimum
below `MIN_COSINE` refuses the model (`QuantizationRefused`, recorded in a `.refused.json` sidecar
so that it is not built again for the same float32 file, ONNX Runtime and session options) and the
caller falls back to float32 with the reason logged. A cached file that no longer matches its
recorded hash, or was made from another float32 file, is built again.

Every ONNX Runtime session that runs an int8 model (this check, the embedding runner, the benchmark)
takes its options from `int8_session_options`: see `INT8_SESSION_CONFIG` for why.

Files: `<library>/cache/onnx/<name>-v<version>-opset<N>-int8.onnx` (+ `.json`), beside the float32 one.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from fluxcull.embedding import cpu
from fluxcull.embedding.backbones import Backbone
from fluxcull.embedding.onnx_backend import ensure_onnx, file_sha256, import_onnxruntime, onnx_path, verify_file
from fluxcull.embedding.preprocess import l2_normalize, normalize, to_square

# The least cosine similarity (int8 vs float32 embedding of one photo) accepted on the check batch.
# Measured on EfficientNet-Lite0: check batch mean 0.984, min 0.935 (gravel.png, a fine texture);
# 64 photos of ../shared/photos (benchmarks/bench_int8.py) mean 0.988, 5th percentile 0.977, min 0.862
# (one small 24 KB JPEG): the bar catches a broken quantization (a range calibrated wrong, an operator
# ONNX Runtime mis-handles), which lands far lower, not every photo's worst case.
MIN_COSINE = 0.90
PERCENTILE = 99.99
FORMAT = "QOperator"

# The ONNX Runtime session option under which an int8 model computes, on an x86-64 CPU without VNNI
# (AVX2, or AVX-512 without VNNI), what it was quantized to compute. There QLinearConv's u8 x s8
# kernel adds each pair of products in a 16-bit lane (vpmaddubsw) that saturates above 32767, and
# with 8-bit weights a pair reaches 2 * 255 * 127 = 64770 (49470 measured in the first 1x1
# convolution): on such a CPU (AVX2, no VNNI) the check batch measured mean 0.870, min 0.699
# (clock_motion.png) instead of 0.984 / 0.935, the figures of the same file in exact arithmetic.
# `session.x64quantprecision` makes ONNX Runtime rewrite those weights as u8 when it loads the model
# (the same products, summed by its u8 x u8 kernel without a 16-bit clamp): 0.984 / 0.935 there,
# at 11.4 ms a photo instead of 8.3 saturated (float32 13.6-16.6; 1 thread, batch 1-16). A CPU with
# VNNI sums u8 x s8 in 32 bits (vpdpbusd), exact already: it runs without the option, at full speed.
# Weights of 7 bits (`reduce_range`, the quantizer's own advice for such CPUs) would avoid the overflow
# in the file itself but cost too much accuracy here: mean 0.922, min 0.786 (horse.png), exact arithmetic.
INT8_SESSION_CONFIG = {"session.x64quantprecision": "1"}

# Photographs (not charts, text or micrographs) among scikit-image's samples.
PHOTOS = (
    "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "motorcycle_right.png",
    "hubble_deep_field.jpg", "camera.png", "coins.png", "moon.png", "brick.png", "grass.png", "gravel.png",
    "clock_motion.png", "horse.png",
)

log = logging.getLogger(__name__)


class QuantizationRefused(RuntimeError):
    """The quantized model was built but its embeddings are too far from float32's (or it cannot be
    built here); the reason says which."""


def int8_path(backbone: Backbone, cache_dir: Path) -> Path:
    fp32 = onnx_path(backbone.with_precision("fp32"), cache_dir)
    return fp32.with_name(fp32.stem + "-int8.onnx")


def _refused_path(path: Path) -> Path:
    return path.with_name(path.stem + ".refused.json")


def sample_photos() -> list[Path]:
    """The calibration photographs shipped in scikit-image's wheel (empty when it is not installed)."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    return [folder / n for n in PHOTOS if (folder / n).is_file()]


def _images(backbone: Backbone) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(calibration inputs, check inputs, photo names): uint8 (n, S, S, 3) network inputs."""
    from PIL import Image

    cal, check, names = [], [], []
    size, policy = backbone.input_size, backbone.input_policy
    for p in sample_photos():
        with Image.open(p) as im:
            im = im.convert("RGB")
        w, h = im.size
        names.append(p.name)
        cal.append(to_square(im, size, policy))
        for fx, fy in ((0.0, 0.0), (0.25, 0.25)):
            box = (int(fx * w), int(fy * h), int(fx * w + 0.75 * w), int(fy * h + 0.75 * h))
            cal.append(to_square(im.crop(box), size, policy))
        mirrored = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        check.append(to_square(mirrored.crop((int(0.1 * w), int(0.05 * h), int(0.95 * w), int(0.9 * h))), size, policy))
    if len(names) < 8:
        raise QuantizationRefused(f"too few calibration photographs ({len(names)}): scikit-image's sample "
                                  "photographs are missing (pip install scikit-image)")
    return np.stack(cal), np.stack(check), names


def check_batch_of_photos(backbone: Backbone) -> np.ndarray:
    """The check batch: each sample photograph mirrored and cropped unlike any calibration input."""
    return _images(backbone)[1]


def _reader(batch: np.ndarray, normalization: str, input_name: str):
    from onnxruntime.quantization import CalibrationDataReader

    class Photos(CalibrationDataReader):
        def __init__(self):
            self._it = iter(range(len(batch)))

        def get_next(self):
            i = next(self._it, None)
            return None if i is None else {input_name: normalize(batch[i:i + 1], normalization)}

    return Photos()


def int8_session_config() -> dict[str, str]:
    """The session configuration an int8 model needs on this CPU: `INT8_SESSION_CONFIG`, or none on a
    CPU known to have VNNI (one whose flags cannot be read gets it: slower there, never wrong)."""
    return {} if cpu.vnni_flag() else dict(INT8_SESSION_CONFIG)


def int8_session_options(ort, opts=None):
    """ONNX Runtime session options for running an int8 model: `opts` (new ones by default) with
    `int8_session_config()` set. Harmless for a float32 model (it has no int8 weights to convert)."""
    opts = ort.SessionOptions() if opts is None else opts
    for key, value in int8_session_config().items():
        opts.add_session_config_entry(key, value)
    return opts


def _embed(ort, path: Path, batch: np.ndarray, normalization: str) -> np.ndarray:
    sess = ort.InferenceSession(str(path), int8_session_options(ort), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return l2_normalize(sess.run(None, {name: normalize(batch, normalization)})[0])


def compare(ort, fp32: Path, int8: Path, batch: np.ndarray, normalization: str) -> np.ndarray:
    """The cosine similarity of the two models' embeddings of each photo of the batch."""
    return np.sum(_embed(ort, fp32, batch, normalization) * _embed(ort, int8, batch, normalization), axis=1)


def build_int8(backbone: Backbone, fp32: Path, path: Path, *, quant_format: str = FORMAT) -> dict:
    """Quantize, check against float32, then move into place; returns the record. Raises
    QuantizationRefused (after recording why) when the check fails. `quant_format` QDQ is for the
    benchmark that compares the two formats."""
    ort = import_onnxruntime(path.parent.parent)
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    cal, check, names = _images(backbone)
    record = {"backbone": backbone.with_precision("int8").id, "format": quant_format, "per_channel": True,
              "activations": "uint8", "weights": "int8", "calibration": f"percentile {PERCENTILE}",
              "calibration_photos": names, "calibration_inputs": len(cal), "check_photos": len(check),
              "min_cosine_required": MIN_COSINE, "fp32_sha256": file_sha256(fp32), "onnxruntime": ort.__version__,
              "session_config": int8_session_config(), "cpu_int8_flags": _cpu_int8_flags()}
    with tempfile.TemporaryDirectory(prefix="fluxcull-int8-", dir=path.parent) as work:
        pre, tmp = Path(work) / "pre.onnx", Path(work) / path.name
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=False)
        input_name = ort.InferenceSession(str(pre), providers=["CPUExecutionProvider"]).get_inputs()[0].name
        chatter = io.StringIO()
        with contextlib.redirect_stdout(chatter):  # the calibrator prints its progress: keep `--json` output clean
            quantize_static(str(pre), str(tmp), _reader(cal, backbone.normalization, input_name),
                            quant_format=QuantFormat.from_string(quant_format), per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            calibrate_method=CalibrationMethod.Percentile, extra_options={"CalibPercentile": PERCENTILE})
        log.debug("quantize_static: %s", chatter.getvalue().strip())
        cos = compare(ort, fp32, tmp, check, backbone.normalization)
        record.update(mean_cosine=round(float(cos.mean()), 5), min_cosine=round(float(cos.min()), 5),
                      worst_photo=names[int(cos.argmin())])
        if not float(cos.min()) >= MIN_COSINE:
            _write_json(_refused_path(path), record)
            raise QuantizationRefused(
                f"the int8 model of {backbone.name} is too far from float32: cosine similarity {cos.min():.4f} on "
                f"{record['worst_photo']} (mean {cos.mean():.4f}; at least {MIN_COSINE} is required)")
        os.replace(tmp, path)
    record.update(sha256=file_sha256(path), size=path.stat().st_size)
    _write_json(path.with_suffix(".json"), record)
    _refused_path(path).unlink(missing_ok=True)
    return record


def _cpu_int8_flags() -> list[str]:
    """The int8-relevant instruction sets of the CPU that ran the check (the record says where it was measured)."""
    return sorted(cpu.cpu_flags() & {"avx2", "avx512f", *cpu.VNNI_FLAGS})


def _write_json(path: Path, record: dict) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(record, indent=2))
    os.replace(tmp, path)


def _record(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def ensure_int8(backbone: Backbone, cache_dir: Path | None = None) -> Path:
    """The cached, checked int8 ONNX file of the backbone, built on first use and again when the cached
    one does not match its record or was made from another float32 export. Raises QuantizationRefused
    when the check failed (now, or before for the same float32 file and ONNX Runtime)."""
    if not backbone.int8:
        raise QuantizationRefused(f"backbone {backbone.name!r} has no int8 variant")
    if cache_dir is None:
        cache_dir = Path(tempfile.mkdtemp(prefix="fluxcull-onnx-"))
    fp32 = ensure_onnx(backbone.with_precision("fp32"), cache_dir)
    path = int8_path(backbone, cache_dir)
    ort = import_onnxruntime(Path(cache_dir))
    fp32_sha = _record(fp32.with_suffix(".json")).get("sha256")
    refused = _record(_refused_path(path))
    if refused and (refused.get("fp32_sha256"), refused.get("onnxruntime"), refused.get("min_cosine_required"),
                    refused.get("session_config")) == (fp32_sha, ort.__version__, MIN_COSINE, int8_session_config()):
        raise QuantizationRefused(f"the int8 model of {backbone.name} was refused: cosine similarity "
                                  f"{refused.get('min_cosine')} to float32 (at least {MIN_COSINE} is required)")
    ok, why = verify_file(path)
    if ok and _record(path.with_suffix(".json")).get("fp32_sha256") != fp32_sha:
        ok, why = False, "it was made from another float32 export"
    if not ok:
        if path.exists() or path.with_suffix(".json").exists():
            log.warning("int8 ONNX cache %s is not usable (%s): building it again", path, why)
        try:
            build_int8(backbone, fp32, path)
        except QuantizationRefused:
            raise
        except Exception as exc:  # onnxruntime.quantization's own errors: say why and use float32
            raise QuantizationRefused(f"quantizing {backbone.name} failed ({type(exc).__name__}: {exc})") from exc
    return path
