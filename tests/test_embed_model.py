"""The default backbone's embeddings: deterministic, robust to re-exports, torch and ONNX agree."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from fluxcull.embedding.backbones import get_backbone
from fluxcull.embedding.preprocess import to_square

GROUP = ("raw-io", "test", "media", "group")


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    class Lib:  # the runner only needs a cache folder
        cache_dir = tmp_path_factory.mktemp("cache")

    return Lib


@pytest.fixture(scope="module")
def runners(onnx_cache):
    from fluxcull.embedding.inference import make_runner

    bb = get_backbone()
    return {rt: make_runner(bb, runtime=rt, device="cpu", lib=onnx_cache) for rt in ("torch-fp32", "torch", "onnx")}


def load(shared, *parts):
    return Image.open(shared.joinpath(*parts)).convert("RGB")


def embed(runner, imgs):
    return runner(np.stack([to_square(i) for i in imgs]))


def reexport(img, crop=0.02, scale=0.6, quality=80):
    """Cropped by 3 % of each dimension (unevenly), downsized to 60 % and saved as JPEG q80."""
    w, h = img.size
    c = img.crop((int(w * crop), int(h * crop / 2), w - int(w * crop / 2), h - int(h * crop)))
    c = c.resize((int(c.width * scale), int(c.height * scale)), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    c.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def test_embeddings_are_unit_length_and_deterministic(runners, shared_photos):
    imgs = [load(shared_photos, *GROUP, f"{i}.jpg") for i in (1, 6)]
    a = embed(runners["onnx"], imgs)
    b = embed(runners["onnx"], imgs[::-1])[::-1]
    assert a.shape == (2, 1280) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(a, b, atol=1e-6)  # batch order does not matter
    np.testing.assert_array_equal(embed(runners["torch"], imgs), embed(runners["torch"], imgs))


def test_torch_and_onnx_agree(runners, onnx_cache, shared_photos):
    imgs = [load(shared_photos, *GROUP, f"{i}.jpg") for i in (2, 14, 19)]
    ref = embed(runners["torch-fp32"], imgs)
    for rt in ("torch", "onnx"):
        assert np.abs(embed(runners[rt], imgs) - ref).max() < 1e-4, rt
    files = list((onnx_cache.cache_dir / "onnx").glob("*.onnx"))
    assert len(files) == 1 and files[0].with_suffix(".json").is_file()


def test_onnx_export_is_cached(onnx_cache, runners):
    from fluxcull.embedding.onnx_backend import ensure_onnx

    path = ensure_onnx(get_backbone(), onnx_cache.cache_dir)
    before = path.stat().st_mtime_ns
    assert ensure_onnx(get_backbone(), onnx_cache.cache_dir) == path
    assert path.stat().st_mtime_ns == before


def test_reexported_copy_is_near_and_other_photos_are_far(runners, shared_photos):
    ex = ("photoprism", "assets", "examples")
    names = [ex + ("chameleon_lime.jpg",), ex + ("elephants.jpg",), ex + ("zebra_green_brown.jpg",),
             ex + ("beach_sand.jpg",), GROUP + ("6.jpg",), GROUP + ("14.jpg",), GROUP + ("19.jpg",)]
    imgs = [load(shared_photos, *n) for n in names]
    orig = embed(runners["onnx"], imgs)
    copies = embed(runners["onnx"], [reexport(i) for i in imgs])
    copy_sims = (orig * copies).sum(1)
    assert copy_sims.min() > 0.9, copy_sims
    sims = orig @ orig.T
    others = sims[~np.eye(len(imgs), dtype=bool)]
    assert others.max() < 0.75, others.max()
    assert copy_sims.min() > others.max() + 0.2
