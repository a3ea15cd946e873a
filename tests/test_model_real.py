"""Learning test on real photos with a planted taste, through the real pipeline (ingest, embed, train).

Every real photo becomes a burst of four frames: the original, a softened copy, a black-and-white
copy and a softened black-and-white copy. The photographer keeps only the sharp colour frame. No
single feature explains that taste (sharpness cannot tell the black-and-white copy, exposure
tells nothing), so the model must beat the random, sharpness-only and exposure-only baselines on
held-out sessions, and pick the kept frame in bursts it never saw.
"""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from PIL import Image, ImageFilter, ImageOps

from photogen import write_jpeg

N_TRAIN, N_NEW = 24, 12
MARGIN_SHARPNESS = 0.08  # pairwise accuracy over the sharpness-only baseline
MARGIN_RANDOM = 0.30     # ... over random and exposure-only


def _sources(shared_photos, n):
    out = []
    with open(shared_photos / "MANIFEST.tsv", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            p = row["path"]
            if not p.lower().endswith((".jpg", ".jpeg")) or p.startswith(("broken/", "exiftool/")):
                continue
            try:
                with Image.open(shared_photos / p) as im:
                    im = ImageOps.exif_transpose(im).convert("RGB")
                    if min(im.size) < 400:
                        continue
                    im.thumbnail((640, 640))
                    out.append(im.copy())
            except Exception:
                continue
            if len(out) == n:
                break
    if len(out) < n:
        pytest.skip(f"only {len(out)} usable real photos in {shared_photos}")
    return out


def _burst(folder, i, img, start):
    """Four frames of one shot, a second apart, in a session of its own; returns (paths, kept path)."""
    soft = img.filter(ImageFilter.GaussianBlur(max(img.size) * 0.004))
    grey = ImageOps.grayscale(img).convert("RGB")
    frames = {"keep": img, "soft": soft, "grey": grey, "softgrey": ImageOps.grayscale(soft).convert("RGB")}
    paths = {}
    for j, (name, frame) in enumerate(frames.items()):
        t = start + dt.timedelta(hours=5 * i, seconds=j)
        paths[name] = write_jpeg(folder / f"R{i:03d}{j}_{name}.JPG", frame, taken=t, quality=92)
    return paths


@pytest.mark.slow
def test_model_learns_a_planted_taste_on_real_photos(shared_photos, library, tmp_path):
    from fluxcull.catalog.decisions import decide
    from fluxcull.catalog.queries import resolve_photo
    from fluxcull.embedding.embed import embed_job
    from fluxcull.ingest import ingest_job
    from fluxcull.jobs import run_job
    from fluxcull.keeper.train import train_job

    imgs = _sources(shared_photos, N_TRAIN + N_NEW)
    start = dt.datetime(2023, 3, 1, 8, 0, 0)
    train_bursts = [_burst(tmp_path / "originals", i, im, start) for i, im in enumerate(imgs[:N_TRAIN])]
    new_bursts = [_burst(tmp_path / "inbox", i, im, start + dt.timedelta(days=200))
                  for i, im in enumerate(imgs[N_TRAIN:])]
    s = run_job(ingest_job(library, [tmp_path / "originals"], "originals"))
    assert s["added"] == 4 * N_TRAIN and not s["errors"]
    run_job(ingest_job(library, [tmp_path / "inbox"], "inbox"))
    e = run_job(embed_job(library))
    assert not e["errors"]
    conn = library.connect()
    try:
        decide(conn, [resolve_photo(conn, str(b["keep"])) for b in train_bursts], "keep", "test")
        summary = run_job(train_job(library, seed=0))
        rows = {r["method"].rstrip(" *"): r for r in summary["metrics_table"] if r["split"] == "random_by_session"}
        model = rows["linear"]["pairwise_accuracy"]
        assert model >= rows["sharpness"]["pairwise_accuracy"] + MARGIN_SHARPNESS, summary["table_text"]
        assert model >= rows["random"]["pairwise_accuracy"] + MARGIN_RANDOM, summary["table_text"]
        assert model >= rows["exposure"]["pairwise_accuracy"] + MARGIN_RANDOM, summary["table_text"]
        # bursts it never saw: the kept frame scores highest in nearly every one
        scores = dict(conn.execute("SELECT path, keeper_score FROM photos").fetchall())
        wins = 0
        for b in new_bursts:
            sc = {name: scores[str(p)] for name, p in b.items()}
            assert all(v is not None and 0.0 <= v <= 1.0 for v in sc.values())
            wins += sc["keep"] > max(v for k, v in sc.items() if k != "keep")
        assert wins >= N_NEW - 2, (wins, summary["table_text"])
    finally:
        conn.close()
