"""RAW+JPEG pairs as one photo unit: pairing at ingest, one grid cell with its tag, one decision for
both files, keeper matching without review, the keeper model counting the pair once, the setting
that turns pairing off, and the originals left untouched.

The pairs are made in the test's temporary folder from a real camera RAW of ../shared/photos (a
Canon EOS 6D DNG) and a JPEG rendered from it, with the RAW's capture time, as a camera writes them.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fluxcull.catalog import Catalog
from fluxcull.catalog.queries import PhotoQuery
from fluxcull.cli import main
from fluxcull.ingest.pairs import TIME_TOLERANCE_S, find_pairs
from fluxcull.jobs import run_job
from tests.ingest_helpers import snapshot
from tests.photogen import scene, write_jpeg

SHARED_PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "photos"
RAW = "photoprism/assets/examples/canon_eos_6d.dng"  # MANIFEST.tsv: a Canon EOS 6D DNG with its capture time
TAKEN = dt.datetime(2019, 6, 6, 7, 29, 51)          # its DateTimeOriginal (offset +02:00)
CAMERA = {"make": "Canon", "model": "Canon EOS 6D", "offset": "+02:00"}


@pytest.fixture
def raw_source() -> Path:
    path = SHARED_PHOTOS / RAW
    if not path.is_file():
        pytest.skip(f"the real RAW {RAW} is not there (expected ../shared/photos beside the repository)")
    return path


def make_pair(raw_source: Path, folder: Path, stem: str = "IMG_2533", raw_ext: str = ".DNG",
              jpeg_ext: str = ".JPG") -> tuple[Path, Path]:
    """A RAW copied into `folder` and the JPEG a camera would write beside it (rendered from the RAW's
    preview, same stem, same capture time)."""
    from fluxcull.media.decode import load_image

    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / f"{stem}{raw_ext}"
    shutil.copyfile(raw_source, raw)
    image, _ = load_image(raw)
    jpeg = write_jpeg(folder / f"{stem}{jpeg_ext}", image.convert("RGB"), quality=92, taken=TAKEN, **CAMERA)
    return raw, jpeg


def make_walk(folder: Path, n: int = 3) -> list[Path]:
    """Other frames of the same walk (single JPEGs), minutes after the pair."""
    return [write_jpeg(folder / f"IMG_{2540 + i}.JPG", scene(i), taken=TAKEN + dt.timedelta(minutes=3 * (i + 1)),
                       **CAMERA) for i in range(n)]


def cli_json(capsys, *argv) -> tuple[int, object]:
    rc = main([*argv, "--json"])
    return rc, json.loads(capsys.readouterr().out)


def ids_of(conn, *paths) -> list[int]:
    return [conn.execute("SELECT id FROM photos WHERE path = ?", (str(p),)).fetchone()[0] for p in paths]


def row(conn, pid: int) -> dict:
    return dict(conn.execute("SELECT * FROM photos WHERE id = ?", (pid,)).fetchone())


# -- the rule ------------------------------------------------------------------------------------
def _rows(*specs):
    """(id, path, role, status, capture_time, time_source) rows from (path[, time[, role[, status]]])."""
    out = []
    for i, (path, *rest) in enumerate(specs, 1):
        t = rest[0] if rest else 100.0
        out.append((i, path, rest[1] if len(rest) > 1 else "originals", rest[2] if len(rest) > 2 else "ok", t,
                    None if t is None else "exif"))
    return out


def test_the_pairing_rule_folder_stem_formats_time_and_status():
    # case-insensitive stems; the JPEG is the primary; a DNG counts as RAW
    assert find_pairs(_rows(("/a/IMG_1.CR2",), ("/a/img_1.jpg",))) == {1: 2}
    assert find_pairs(_rows(("/a/x.jpeg",), ("/a/X.dng",))) == {2: 1}
    # another folder, another stem, a PNG or TIFF beside a RAW: no pair
    assert find_pairs(_rows(("/a/IMG_1.CR2",), ("/b/IMG_1.JPG",))) == {}
    assert find_pairs(_rows(("/a/IMG_1.CR2",), ("/a/IMG_2.JPG",))) == {}
    assert find_pairs(_rows(("/a/IMG_1.NEF",), ("/a/IMG_1.png",), ("/a/IMG_1.tif",))) == {}
    # HEIF where there is no JPEG; the JPEG where there are both
    assert find_pairs(_rows(("/a/P1.ARW",), ("/a/P1.HEIC",))) == {1: 2}
    assert find_pairs(_rows(("/a/P1.ARW",), ("/a/P1.HEIC",), ("/a/P1.JPG",))) == {1: 3}
    # ambiguous: two RAWs (a CR2 and its DNG conversion) or two JPEGs
    assert find_pairs(_rows(("/a/P1.CR2",), ("/a/P1.DNG",), ("/a/P1.JPG",))) == {}
    assert find_pairs(_rows(("/a/P1.CR2",), ("/a/P1.JPG",), ("/a/p1.jpeg",))) == {}
    # capture times within the tolerance; either without an EXIF time: folder and stem decide
    assert find_pairs(_rows(("/a/P1.CR2", 100.0), ("/a/P1.JPG", 100.0 + TIME_TOLERANCE_S))) == {1: 2}
    assert find_pairs(_rows(("/a/P1.CR2", 100.0), ("/a/P1.JPG", 100.0 + TIME_TOLERANCE_S + 1))) == {}
    assert find_pairs(_rows(("/a/P1.CR2", None), ("/a/P1.JPG", 5000.0))) == {1: 2}
    # a file that failed to ingest, the keeper archive, or two roles: no pair
    assert find_pairs(_rows(("/a/P1.CR2", 100.0, "originals", "error"), ("/a/P1.JPG",))) == {}
    assert find_pairs(_rows(("/a/P1.CR2", 100.0, "keepers"), ("/a/P1.JPG", 100.0, "keepers"))) == {}
    assert find_pairs(_rows(("/a/P1.CR2", 100.0, "inbox"), ("/a/P1.JPG", 100.0, "originals"))) == {}
    assert find_pairs(_rows(("/a/P1.CR2", 100.0, "inbox"), ("/a/P1.JPG", 100.0, "inbox"))) == {1: 2}


# -- ingest, listing, counts, the grid, decisions, the setting ------------------------------------
def test_a_raw_jpeg_pair_is_one_photo_from_ingest_to_decisions(raw_source, library, tmp_path, capsys, qtbot):
    from PySide6.QtCore import Qt

    from fluxcull.ui.delegate import pair_label
    from fluxcull.ui.grid import GridView
    from fluxcull.ui.model import PhotoListModel, RecordRole
    from fluxcull.ui.thumbs import PixmapCache, ThumbLoader

    walk = tmp_path / "ORIGINALS" / "2019-06-06"
    raw, jpeg = make_pair(raw_source, walk)
    others = make_walk(walk)
    before = snapshot(tmp_path / "ORIGINALS")

    rc, s = cli_json(capsys, "ingest", str(tmp_path / "ORIGINALS"), "--role", "originals")
    assert rc == 0 and s["added"] == 5 and s["raw_jpeg_pairs"] == 1
    conn = library.connect()
    raw_id, jpeg_id = ids_of(conn, raw, jpeg)
    assert row(conn, raw_id)["pair_of"] == jpeg_id and row(conn, jpeg_id)["pair_of"] is None
    assert row(conn, raw_id)["session_id"] is None  # the pair is in its JPEG's session, once
    session = row(conn, jpeg_id)["session_id"]

    # counted once: status, the session, the photo list (both paths on the pair's entry)
    rc, st = cli_json(capsys, "status")
    assert st["by_role"]["originals"]["ok"] == 4 and st["photos"] == 4 and st["raw_jpeg_pairs"] == 1
    rc, sessions = cli_json(capsys, "sessions")
    assert [x["photo_count"] for x in sessions if x["id"] == session] == [4]
    rc, photos = cli_json(capsys, "photos")
    assert [p["path"] for p in photos] == [str(jpeg), *map(str, others)]
    assert photos[0]["pair"] == {"raw": str(raw), "jpeg": str(jpeg), "raw_id": raw_id, "jpeg_id": jpeg_id}
    assert all(p["pair"] is None for p in photos[1:])
    rc, every = cli_json(capsys, "photos", "--all-files", "--session", str(session))
    assert sorted(p["path"] for p in every) == sorted(map(str, [raw, jpeg, *others]))
    assert next(p for p in every if p["id"] == raw_id)["pair"]["jpeg"] == str(jpeg)

    # one grid cell, with the RAW+JPEG tag painted on it
    catalog = Catalog(conn)
    model = PhotoListModel(catalog)
    model.set_query(PhotoQuery(role="originals", sort="time"))
    assert model.ids == [jpeg_id, *ids_of(conn, *others)]
    rec = model.index(0).data(RecordRole)
    assert pair_label(rec) == "RAW+JPEG" and pair_label(model.index(1).data(RecordRole)) is None
    assert "RAW+JPEG pair" in model.index(0).data(Qt.ToolTipRole)
    assert catalog.count_photos(PhotoQuery(role="originals")) == 4
    loader = ThumbLoader(PixmapCache())
    try:
        view = GridView(library, loader)
        view.setModel(model)
        qtbot.addWidget(view)
        view.resize(600, 400)
        view.show()
        qtbot.waitExposed(view)
        qtbot.waitUntil(lambda: view.thumb_cache_key(rec) in loader.cache, timeout=10000)
        cell = view.visualRect(model.index(0))

        def grab():
            view.viewport().repaint()
            return view.viewport().grab(cell).toImage()

        tagged = grab()
        rec = model.record(0)  # the record the cell is painted from (data() hands out copies)
        rec["paired"] = 0  # the same cell without the tag
        untagged = grab()
        rec["paired"] = 1
        assert tagged != untagged and grab() == tagged
        view.close()
    finally:
        loader.shutdown()

    # one decision for both files, in one transaction and in the log; undo restores both
    assert catalog.decide([jpeg_id], "keep", "gui") == [jpeg_id]
    assert (row(conn, jpeg_id)["decision"], row(conn, raw_id)["decision"]) == ("keep", "keep")
    assert row(conn, raw_id)["keeper_score"] == 1.0
    log = conn.execute("SELECT photo_id, kind, other_photo_id FROM decision_events ORDER BY id").fetchall()
    assert [tuple(r) for r in log] == [(jpeg_id, "keep", None), (raw_id, "keep", jpeg_id)]
    assert catalog.decision_counts(PhotoQuery(role="originals"))["keep"] == 1
    undone = catalog.undo(1, "gui", sources=["gui"])
    assert [u["photo_id"] for u in undone] == [jpeg_id]
    assert (row(conn, jpeg_id)["decision"], row(conn, raw_id)["decision"]) == ("none", "none")
    assert row(conn, raw_id)["keeper_score"] is None
    # from the command line, by the RAW's path: the pair is decided
    rc, d = cli_json(capsys, "decide", str(raw), "--reject")
    assert rc == 0 and d["changed"] == [jpeg_id]
    assert (row(conn, jpeg_id)["decision"], row(conn, raw_id)["decision"]) == ("reject", "reject")
    rc, u = cli_json(capsys, "undo")
    assert u["undone"]["photo_id"] == jpeg_id
    assert (row(conn, jpeg_id)["decision"], row(conn, raw_id)["decision"]) == ("none", "none")
    assert main(["undo"]) == 0 and "nothing to undo" in capsys.readouterr().out

    # a second ingest changes nothing; pairing off and an ingest: two photos again
    rc, s = cli_json(capsys, "ingest", str(tmp_path / "ORIGINALS"), "--role", "originals")
    assert s["unchanged"] == 5 and s["raw_jpeg_pairs"] == 1 and row(conn, raw_id)["pair_of"] == jpeg_id
    catalog.set_setting("ingest.raw_jpeg_pairs", "off")
    rc, s = cli_json(capsys, "ingest", str(tmp_path / "ORIGINALS"), "--role", "originals")
    assert rc == 0 and s["raw_jpeg_pairs"] == 0
    assert row(conn, raw_id)["pair_of"] is None and row(conn, raw_id)["session_id"] == session
    rc, st = cli_json(capsys, "status")
    assert st["photos"] == 5 and st["raw_jpeg_pairs"] == 0
    model.set_query(PhotoQuery(role="originals", sort="time"))
    assert sorted(model.ids) == sorted([raw_id, jpeg_id, *ids_of(conn, *others)])
    assert not any(model.index(r).data(RecordRole)["paired"] for r in range(model.rowCount()))
    catalog.decide([jpeg_id], "keep", "gui")
    assert row(conn, raw_id)["decision"] == "none"  # two photos: two decisions
    catalog.set_setting("ingest.raw_jpeg_pairs", "on")
    rc, s = cli_json(capsys, "ingest", str(tmp_path / "ORIGINALS"), "--role", "originals")
    assert s["raw_jpeg_pairs"] == 1 and row(conn, raw_id)["decision"] == "keep"  # the pair takes the JPEG's
    assert tuple(conn.execute("SELECT source, detail FROM decision_events WHERE photo_id = ? ORDER BY id DESC",
                              (raw_id,)).fetchone()) == ("pairing", "pair:joined")
    conn.close()

    assert snapshot(tmp_path / "ORIGINALS") == before  # not a byte changed, nothing written there


def test_a_new_pair_takes_over_links_decisions_and_scores_of_its_files(conn):
    """Files decided and linked apart (before pairing, or with it off) become one photo unit."""
    from fluxcull.catalog import transaction
    from fluxcull.catalog.raw_jpeg_pairs import set_pairs

    with transaction(conn):
        for path, score in (("/o/P1.JPG", 0.4), ("/o/P1.CR2", 0.6), ("/k/P1_edit.jpg", 1.0)):
            conn.execute("INSERT INTO photos(path, role, size, mtime_ns, keeper_score) VALUES (?, ?, 1, 1, ?)",
                         (path, "keepers" if path.startswith("/k") else "originals", score))
        conn.execute("INSERT INTO keeper_links(keeper_id, original_id, method) VALUES (3, 2, 'filename')")
        conn.execute("UPDATE photos SET decision = 'reject', base_score = 0.6, keeper_score = 0.0 WHERE id = 2")
    set_pairs(conn, [(2, 1)], [])
    assert conn.execute("SELECT original_id FROM keeper_links WHERE keeper_id = 3").fetchone()[0] == 1
    assert [tuple(r) for r in conn.execute("SELECT decision, keeper_score FROM photos WHERE id IN (1, 2)")] == \
        [("reject", 0.0), ("reject", 0.0)]
    assert [tuple(r) for r in conn.execute("SELECT base_score FROM photos WHERE id IN (1, 2)")] == [(1.0,), (1.0,)]
    from fluxcull.catalog.decisions import undo_last

    assert undo_last(conn, "cli", sources=None) is None  # aligning a pair is no decision to undo

    from fluxcull.catalog.queries import status_counts

    def counted():  # the running counts against the photos table, a pair once
        s = status_counts(conn)
        units = conn.execute("SELECT COUNT(*), COUNT(keeper_score) FROM photos WHERE pair_of IS NULL").fetchone()
        return (s["photos"], s["scored"], s["raw_jpeg_pairs"]), (*units, 1)

    assert counted() == ((2, 2, 1), (2, 2, 1))
    set_pairs(conn, [], [2])
    assert conn.execute("SELECT pair_of FROM photos WHERE id = 2").fetchone()[0] is None
    assert status_counts(conn)["photos"] == 3 and status_counts(conn)["raw_jpeg_pairs"] == 0


# -- keeper matching and the keeper model ------------------------------------------------------------
def test_a_keeper_of_a_paired_photo_links_to_the_pair_without_review(raw_source, library, tmp_path, capsys):
    from PIL import Image

    from fluxcull.embedding.embed import embed_job

    walk = tmp_path / "ORIGINALS" / "2019-06-06"
    raw, jpeg = make_pair(raw_source, walk)
    make_walk(walk, 2)
    keepers = tmp_path / "KEEPERS"
    keepers.mkdir()
    with Image.open(jpeg) as im:
        exif = im.getexif()
        small = im.convert("RGB").resize((im.width // 2, im.height // 2), Image.LANCZOS)
    small.save(keepers / "2019-06-06_IMG_2533_edit.jpg", "JPEG", quality=85, exif=exif)  # with its EXIF
    small.save(keepers / "web-export.jpg", "JPEG", quality=85)  # stripped: similarity alone
    for folder, role in ((tmp_path / "ORIGINALS", "originals"), (keepers, "keepers")):
        assert main(["ingest", str(folder), "--role", role, "--json"]) == 0
    capsys.readouterr()
    run_job(embed_job(library))
    rc, m = cli_json(capsys, "match")
    assert rc == 0 and m["review"] == 0 and m["unmatched"] == 0
    conn = library.connect()
    raw_id, jpeg_id = ids_of(conn, raw, jpeg)
    links = {Path(x["keeper"]).name: x for x in m["links"]}
    assert {x["original_id"] for x in links.values()} == {jpeg_id}
    assert links["2019-06-06_IMG_2533_edit.jpg"]["method"] == "timestamp"
    assert links["web-export.jpg"]["method"] == "similarity"
    assert not any(x["needs_review"] for x in links.values())
    # linked from the archive: the pair is a confirmed keeper, both files scored 1.0
    assert row(conn, jpeg_id)["keeper_score"] == row(conn, raw_id)["keeper_score"] == 1.0
    # a person linking a keeper to the RAW links it to the pair
    keeper_id = links["web-export.jpg"]["keeper_id"]
    assert main(["link", str(keeper_id), str(raw), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["original_id"] == jpeg_id
    conn.close()


def test_the_keeper_model_counts_a_pair_once_and_its_raw_gets_the_jpeg_score(raw_source, library, tmp_path,
                                                                             capsys):
    import modelgen
    from fluxcull.embedding.features import N_TECH
    from fluxcull.keeper.dataset import load_corpus
    from fluxcull.keeper.train import train_job

    raw, jpeg = make_pair(raw_source, tmp_path / "ORIGINALS" / "2019-06-06")
    assert main(["ingest", str(tmp_path / "ORIGINALS"), "--role", "originals", "--json"]) == 0
    capsys.readouterr()
    conn = library.connect()
    raw_id, jpeg_id = ids_of(conn, raw, jpeg)
    g = modelgen.build(library, conn, n=240, sessions=8, seed=5)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    # both files embedded (the RAW's preview looks like its JPEG), as `fluxcull embed` leaves them
    vec = np.random.default_rng(0).normal(size=(1, g["emb"].shape[1])).astype(np.float32)
    g["store"].write([jpeg_id, raw_id], np.concatenate([vec, vec + 0.01]))
    tech = np.full((2, N_TECH), np.nan, np.float32)
    tech[:, [0, 1, 2, 4, 6]] = [2.0, 0.15, 0.5, 0.0, 0.6]  # an ordinary frame (modelgen's ranges)
    modelgen.write_features(conn, [jpeg_id, raw_id], tech)

    corpus = load_corpus(conn, g["store"])
    assert jpeg_id in corpus.ids and raw_id not in corpus.ids
    assert len(corpus) == len(g["ids"]) + 1  # the pair once
    s = run_job(train_job(library, seed=0))
    assert s["data"]["photos"] == len(g["ids"]) + 1
    jp, rw = row(conn, jpeg_id), row(conn, raw_id)
    assert jp["keeper_score"] is not None and 0.0 < jp["keeper_score"] < 1.0
    assert (rw["keeper_score"], rw["base_score"], rw["failure"]) == (jp["keeper_score"], jp["base_score"],
                                                                     jp["failure"])
    # a decision on the pair and its undo keep both files' scores together
    Catalog(conn).decide([jpeg_id], "reject", "gui")
    assert row(conn, raw_id)["keeper_score"] == 0.0
    Catalog(conn).undo(1, "gui")
    assert row(conn, raw_id)["keeper_score"] == jp["keeper_score"]
    conn.close()


def test_a_rejected_raw_in_an_adobe_sidecar_rejects_the_pair_on_import_and_one_undo_restores_both(
        raw_source, library, tmp_path, capsys):
    """Adobe writes a RAW's marks to IMG.xmp: `import-marks` decides the pair from them, both files
    at once, and `fluxcull undo` takes the import back from both."""
    from tests import xmpgen

    raw, jpeg = make_pair(raw_source, tmp_path / "walk")
    (tmp_path / "walk" / "IMG_2533.xmp").write_text(xmpgen.LIGHTROOM.format(rating=-1))
    assert main(["ingest", str(tmp_path / "walk"), "--role", "originals", "--workers", "1"]) == 0
    capsys.readouterr()
    rc, out = cli_json(capsys, "import-marks")
    assert rc == 0
    conn = library.connect()
    try:
        r_id, j_id = ids_of(conn, raw, jpeg)
        assert row(conn, r_id)["pair_of"] == j_id
        assert (row(conn, j_id)["decision"], row(conn, r_id)["decision"]) == ("reject", "reject")
        assert main(["undo"]) == 0
        capsys.readouterr()
        assert (row(conn, j_id)["decision"], row(conn, r_id)["decision"]) == ("none", "none")
    finally:
        conn.close()


def test_stars_and_labels_of_a_pair_go_to_both_files_and_undo_restores_both(raw_source, library, tmp_path, capsys):
    raw, jpeg = make_pair(raw_source, tmp_path / "walk")
    assert main(["ingest", str(tmp_path / "walk"), "--role", "originals", "--workers", "1"]) == 0
    capsys.readouterr()
    conn = library.connect()
    try:
        r_id, j_id = ids_of(conn, raw, jpeg)
        cat = Catalog(conn)
        assert cat.rate([r_id], 4, "cli")["photos"] == [j_id]  # the RAW stands for its pair
        cat.label([j_id], "green", "cli")
        marks = lambda pid: (row(conn, pid)["rating"], row(conn, pid)["color_label"])  # noqa: E731
        assert marks(j_id) == marks(r_id) == (4, "green")
        cat.undo(1, "cli", sources=("cli",))
        assert marks(j_id) == marks(r_id) == (4, None)
        cat.undo(1, "cli", sources=("cli",))
        assert marks(j_id) == marks(r_id) == (0, None)
    finally:
        conn.close()
