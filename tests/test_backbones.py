"""The backbone registry: the default works offline; others fail clearly when weights are absent."""

from __future__ import annotations

import subprocess
import sys
import urllib.error

import pytest

from fluxcull.embedding.backbones import DEFAULT_BACKBONE, BackboneUnavailable, get_backbone, list_backbones


def test_default_is_lite0_and_ids_carry_versions():
    bb = get_backbone()
    assert bb.name == DEFAULT_BACKBONE == "efficientnet_lite0"
    assert bb.id == "efficientnet_lite0@1" and bb.dim == 1280
    assert get_backbone("efficientnet_lite0@1") is bb
    assert bb.weights_available()
    names = {b.name for b in list_backbones()}
    assert {"convnext_tiny", "vit_b_16"} <= names and any(n.startswith("timm:") for n in names)


def test_unknown_backbone_names_the_default():
    with pytest.raises(BackboneUnavailable, match="efficientnet_lite0"):
        get_backbone("nonsense_net")
    with pytest.raises(BackboneUnavailable, match="provides efficientnet_lite0@1"):
        get_backbone("efficientnet_lite0@7")


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """An empty torch hub cache and any download attempt failing as offline."""
    import torch

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None, raising=False)

    def refuse(*a, **k):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def test_torchvision_backbone_offline_fails_fast_naming_the_default(no_network, monkeypatch):
    monkeypatch.setenv("FLUXCULL_OFFLINE", "1")
    bb = get_backbone("convnext_tiny")
    assert not bb.weights_available()
    with pytest.raises(BackboneUnavailable, match="not cached.*efficientnet_lite0"):
        bb.build()


def test_torchvision_backbone_download_failure_is_clear(no_network, monkeypatch):
    monkeypatch.delenv("FLUXCULL_OFFLINE", raising=False)
    with pytest.raises(BackboneUnavailable, match="downloading its weights .* failed.*efficientnet_lite0"):
        get_backbone("vit_b_16").build()


def test_timm_backbone_without_timm_is_clear(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_timm(name, *a, **k):
        if name == "timm":
            raise ModuleNotFoundError("No module named 'timm'", name="timm")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_timm)
    with pytest.raises(BackboneUnavailable, match="timm.*efficientnet_lite0"):
        get_backbone("timm:convnext_small.fb_in22k_ft_in1k").build(allow_download=False)


def test_cli_embed_with_unavailable_backbone_exits_2(library, monkeypatch, tmp_path, capsys):
    from fluxcull.cli import main

    monkeypatch.setenv("FLUXCULL_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    # a photo to embed, so the job has to build the backbone
    from fluxcull.ingest import ingest_job
    from fluxcull.jobs import run_job
    from photogen import write_jpeg

    write_jpeg(tmp_path / "p" / "a.jpg", seed=1)
    run_job(ingest_job(library, [tmp_path / "p"], "originals"))
    assert main(["embed", "--backbone", "resnet50"]) == 2
    err = capsys.readouterr().err
    assert "resnet50" in err and "efficientnet_lite0" in err


def test_lite0_weights_classify_real_photos(shared_photos):
    """The packaged weights are loaded right: ImageNet classes of real photos come out on top."""
    import numpy as np
    import torch
    from PIL import Image
    from torchvision.models import ResNet50_Weights

    from fluxcull.embedding.efficientnet_lite import load_pretrained
    from fluxcull.embedding.preprocess import normalize, to_square

    cats = ResNet50_Weights.IMAGENET1K_V1.meta["categories"]  # class names ship with torchvision
    model = load_pretrained()
    ex = shared_photos / "photoprism" / "assets" / "examples"
    imgs = [Image.open(ex / n).convert("RGB") for n in ("chameleon_lime.jpg", "IMG_4120.JPG", "beach_sand.jpg")]
    x = torch.from_numpy(normalize(np.stack([to_square(i, 224, "center") for i in imgs]), "tf"))
    with torch.inference_mode():
        top = model(x).softmax(1).topk(3).indices
    names = [[cats[j] for j in row] for row in top.tolist()]
    assert "chameleon" in names[0][0].lower(), names[0]
    assert names[1][0] == "airliner", names[1]
    assert names[2][0] in ("seashore", "sandbar"), names[2]


def test_light_modules_do_not_import_torch_or_qt():
    code = (
        "import sys\n"
        "import fluxcull.embedding.backbones, fluxcull.embedding.features, fluxcull.embedding.store\n"
        "import fluxcull.embedding.preprocess\n"
        "import fluxcull.cli.embed_cmd\n"
        "bad = [m for m in ('torch', 'PySide6', 'onnxruntime') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "import fluxcull.embedding.embed, fluxcull.embedding.inference, fluxcull.embedding.onnx_backend\n"
        "assert 'PySide6' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
