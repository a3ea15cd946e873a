"""The ONNX cache: verified against its recorded SHA-256, exported again when it does not match,
and never written under the user's home."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fluxcull.embedding import onnx_backend
from fluxcull.embedding.backbones import get_backbone


@pytest.fixture
def fake_export(monkeypatch):
    """export_onnx replaced by a fast stand-in that writes a file and its record like the real one."""
    calls = []

    def export(backbone, path):
        calls.append(Path(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"onnx model bytes " + str(len(calls)).encode())
        record = {"backbone": backbone.id, "sha256": onnx_backend.file_sha256(path), "size": path.stat().st_size}
        path.with_suffix(".json").write_text(json.dumps(record))
        return record

    monkeypatch.setattr(onnx_backend, "export_onnx", export)
    return calls


@pytest.mark.parametrize("damage", ["flip", "truncate", "record-missing", "record-garbage", "no-hash"])
def test_a_damaged_cache_is_exported_again(tmp_path, fake_export, damage):
    """Finding 5g (ONNX part): a damaged ONNX cache was used as is (tracebacks, or wrong vectors)."""
    bb = get_backbone()
    path = onnx_backend.ensure_onnx(bb, tmp_path)
    assert len(fake_export) == 1 and onnx_backend.verify_file(path) == (True, "ok")
    assert onnx_backend.ensure_onnx(bb, tmp_path) == path and len(fake_export) == 1  # a good cache is reused
    side = path.with_suffix(".json")
    if damage == "flip":
        data = bytearray(path.read_bytes())
        data[3] ^= 1
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:5])
    elif damage == "record-missing":
        side.unlink()
    elif damage == "record-garbage":
        side.write_text("{not json")
    else:
        side.write_text(json.dumps({"backbone": bb.id}))
    ok, why = onnx_backend.verify_file(path)
    assert not ok and why
    assert onnx_backend.ensure_onnx(bb, tmp_path) == path and len(fake_export) == 2
    assert onnx_backend.verify_file(path) == (True, "ok")


def test_without_a_library_nothing_is_cached_under_home(tmp_path, fake_export, monkeypatch):
    """Finding 8h: the ONNX cache went under the user's home."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    path = onnx_backend.ensure_onnx(get_backbone(), None)
    assert not path.is_relative_to(home) and not home.exists()


def test_a_cache_onnxruntime_cannot_load_is_exported_again(tmp_path, fake_export, monkeypatch):
    from fluxcull.embedding import inference

    made = []

    class Runner:
        def __init__(self, path, backbone, threads=None):
            if len(made) == 0:
                made.append("failed")
                raise RuntimeError("[ONNXRuntimeError] : 7 : INVALID_PROTOBUF")
            made.append("ok")

    monkeypatch.setattr(inference, "OnnxRunner", Runner)

    class Lib:
        cache_dir = tmp_path

    inference.make_runner(get_backbone(), runtime="onnx", device="cpu", lib=Lib())
    assert made == ["failed", "ok"] and len(fake_export) == 2


def test_onnxruntime_writes_its_files_into_the_library_not_home(tmp_path):
    """Finding 8h: ONNX Runtime wrote ~/.cache/Microsoft/DeveloperTools/.onnxruntime on import."""
    import subprocess
    import sys

    from relhelp import REPO, env_for

    env = env_for(tmp_path)
    env.pop("XDG_CACHE_HOME")
    code = ("import sys; from pathlib import Path; from fluxcull.embedding.onnx_backend import import_onnxruntime; "
            "import_onnxruntime(Path(sys.argv[1]))")
    p = subprocess.run([sys.executable, "-c", code, str(tmp_path / "lib" / "cache")], env=env, cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("*onnxruntime*"))
    assert (tmp_path / "lib" / "cache" / "onnxruntime").is_dir()
