"""embed_job: every decodable photo gets an embedding and features; incremental, resumable, robust."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from fluxcull.jobs import CancelToken, Cancelled, run_job
from fluxcull.embedding.embed import embed_job
from fluxcull.embedding.store import current_store
from fluxcull.embedding.features import FEATURE_NAMES, N_TECH, load_features
from photogen import scene, write_jpeg


@pytest.fixture(autouse=True)
def _onnx_in_library(request, with_onnx):
    """Each test's library starts with the verified ONNX export (as after a first run)."""
    if "library" in request.fixturenames:
        with_onnx(request.getfixturevalue("library"))


def ingest(lib, folder, role="originals"):
    from fluxcull.ingest import ingest_job

    return run_job(ingest_job(lib, [folder], role))


@pytest.fixture
def shoot(tmp_path):
    folder = tmp_path / "shoot"
    for i in range(7):
        write_jpeg(folder / f"R00{i:02d}.JPG", seed=i)
    return folder


def ok_ids(conn):
    return [r[0] for r in conn.execute("SELECT id FROM photos WHERE status = 'ok' ORDER BY id")]


def test_embeds_everything_once(library, conn, shoot):
    ingest(library, shoot)
    s = run_job(embed_job(library, batch_size=3))
    ids = ok_ids(conn)
    assert s["embedded"] == s["featured"] == len(ids) == 7 and not s["errors"]
    assert s["backbone"] == "efficientnet_lite0@1" and s["runtime"] == "onnx"
    store = current_store(library, conn)
    assert store.backbone_id == "efficientnet_lite0@1" and store.count() == 7
    vecs = store.get(ids)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=2e-3)  # float16 storage
    feats = load_features(conn, ids)
    assert feats.shape == (7, len(FEATURE_NAMES)) and not np.isnan(feats[:, :N_TECH]).any()
    assert conn.execute("SELECT input FROM backbones WHERE id = ?", (store.backbone_id,)).fetchone()[0] == "squash 224"
    again = run_job(embed_job(library))
    assert again["embedded"] == again["featured"] == 0 and again["skipped"] == 7


def test_thumbnail_and_file_give_the_same_embedding(library, conn, shoot):
    ingest(library, shoot)
    run_job(embed_job(library))
    ids = ok_ids(conn)
    from_thumbs = current_store(library, conn).get(ids)
    tech_thumbs = load_features(conn, ids)[:, :N_TECH]
    shutil.rmtree(library.thumbs_dir)  # force decoding the files themselves
    conn.execute("DELETE FROM embedding_rows")
    conn.execute("DELETE FROM photo_features")
    s = run_job(embed_job(library))
    assert s["embedded"] == 7 and not s["errors"]
    cos = (from_thumbs * current_store(library, conn).get(ids)).sum(1)
    assert cos.min() > 0.98, cos
    np.testing.assert_allclose(load_features(conn, ids)[:, 2], tech_thumbs[:, 2], atol=0.02)  # brightness


def test_cancel_then_resume(library, conn, shoot):
    ingest(library, shoot)
    token = CancelToken()
    job = embed_job(library, batch_size=2, cancel=token)
    with pytest.raises(Cancelled):
        for p in job:
            if p.done >= 2:
                token.cancel()
    store = current_store(library, conn)
    done_first = store.count()
    assert 2 <= done_first < 7
    s = run_job(embed_job(library, batch_size=2))
    assert s["embedded"] == 7 - done_first and s["skipped"] == done_first
    assert store.count() == 7


def test_changed_file_is_embedded_again(library, conn, shoot):
    ingest(library, shoot)
    run_job(embed_job(library))
    write_jpeg(shoot / "R0003.JPG", scene(99))
    ingest(library, shoot)
    s = run_job(embed_job(library))
    assert s["embedded"] == 1 and s["featured"] == 1


def test_role_filter_and_undecodable_photo(library, conn, shoot, tmp_path):
    ingest(library, shoot)
    keepers = tmp_path / "keepers"
    write_jpeg(keepers / "k1.jpg", seed=3)
    ingest(library, keepers, "keepers")
    s = run_job(embed_job(library, role="keepers"))
    assert s["embedded"] == 1
    # a catalogued photo whose file and thumbnail both vanished: named error, the rest goes on
    victim = shoot / "R0001.JPG"
    key = conn.execute("SELECT thumb_key FROM photos WHERE path = ?", (str(victim),)).fetchone()[0]
    from fluxcull.media.thumbs import thumb_path

    thumb_path(library, key).unlink()
    victim.unlink()
    s = run_job(embed_job(library))
    assert s["embedded"] == 6
    assert [e["path"] for e in s["errors"]] == [str(victim)] and s["errors"][0]["reason"]


def test_raw_with_failing_decode_gets_embedding_from_preview(library, conn, shared_photos, tmp_path):
    raws = tmp_path / "raws"
    raws.mkdir()
    for src in (shared_photos / "exif-py" / "tests" / "resources" / "raw").glob("*.dng"):
        shutil.copy(src, raws / src.name)
    for src in (shared_photos / "metadata-extractor-images" / "nef").glob("*.nef"):
        shutil.copy(src, raws / src.name)
    ingest(library, raws)
    shutil.rmtree(library.thumbs_dir, ignore_errors=True)  # decode from the RAW files themselves
    ids = ok_ids(conn)
    assert len(ids) == 2
    s = run_job(embed_job(library))
    assert s["embedded"] == 2 and not s["errors"]
    assert current_store(library, conn).get(ids).shape == (2, 1280)


def test_cli_embed_json_and_features(library, shoot, capsys):
    import json

    from fluxcull.cli import main

    ingest(library, shoot)
    assert main(["embed", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["embedded"] == 7 and out["timing"]["photos_per_s"] > 0
    assert main(["features", str(shoot / "R0002.JPG"), "--json"]) == 0
    feats = json.loads(capsys.readouterr().out)["features"]
    assert set(feats) == set(FEATURE_NAMES) and feats["sharpness_laplacian"] > 0
    assert main(["backbones", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["efficientnet_lite0"]["embedded"] == 7 and rows["efficientnet_lite0"]["active"]
