"""Decisions travel both ways: marks read from Adobe- and darktable-style sidecars at ingest become
decisions, `export xmp --dest sidecar` writes them (with the decisions made in fluxcull) back into
the same sidecars, and a fresh library ingesting the folder again reads every keep, reject and label
unchanged; the sidecars' other fields stay byte for byte and the photos' bytes never change."""

from __future__ import annotations

from fluxcull.cli import main
from tests import xmpgen
from tests.export_helpers import build, checksums, decide, run_json


def _by_name(capsys) -> dict[str, dict]:
    return {r["path"].split("/originals/", 1)[1]: r for r in run_json(capsys, ["photos"])}


def test_marks_and_decisions_round_trip_through_sidecars(shared_photos, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FLUXCULL_LIBRARY", str(tmp_path / "first"))
    root = tmp_path / "originals"
    (root / "2008/a").mkdir(parents=True)
    (root / "2008/a/Canon_40D.xmp").write_text(xmpgen.LIGHTROOM.format(rating=-1))  # Adobe style: a past reject
    (root / "2008/a/Nikon_D70.jpg.xmp").write_text(                                 # darktable style: five stars
        xmpgen.DARKTABLE.format(rating=5, name="Nikon_D70.jpg"))
    lib = build(shared_photos, tmp_path, capsys)
    ids = lib["ids"]
    before = checksums(root)

    first = _by_name(capsys)
    assert first["2008/a/Canon_40D.jpg"]["imported_marks"]["rating"] == -1
    assert first["2008/a/Nikon_D70.jpg"]["imported_marks"]["rating"] == 5
    run_json(capsys, ["import-marks", "--min-stars", "4", "--as", "keep"])
    decide(capsys, "keep", ids["2008/b/Pentax_K10D.jpg"])            # a decision made in fluxcull
    decide(capsys, "reject", ids["2008/b/Canon_40D.jpg"])
    want = {k: v["decision"] for k, v in _by_name(capsys).items()}
    assert want["2008/a/Canon_40D.jpg"] == "reject" and want["2008/a/Nikon_D70.jpg"] == "keep"

    run_json(capsys, ["export", "xmp", "--dest", "sidecar"])
    lr = (root / "2008/a/Canon_40D.xmp").read_text()
    for untouched in ('crs:Exposure2012="+0.35"', 'crs:Version="15.2"', "<rdf:li>Paris</rdf:li>",
                      "<rdf:li>Places|France|Paris</rdf:li>"):
        assert untouched in lr
    assert 'darktable:history_end="0"' in (root / "2008/a/Nikon_D70.jpg.xmp").read_text()
    exported = _by_name(capsys)

    # a fresh library reads the folder again: every keep, reject and label comes back
    monkeypatch.setenv("FLUXCULL_LIBRARY", str(tmp_path / "second"))
    assert main(["ingest", str(root), "--role", "originals", "--workers", "1"]) == 0
    capsys.readouterr()
    run_json(capsys, ["import-marks", "--min-stars", "3", "--as", "keep"])
    again = _by_name(capsys)
    decided = {k: v for k, v in want.items() if v != "none"}
    assert {k: again[k]["decision"] for k in decided} == decided
    assert all(again[k]["decision"] == "none" for k in want if k not in decided)
    for name in decided:
        m = again[name]["imported_marks"]
        assert m["label"] == ("Green" if decided[name] == "keep" else "Red"), (name, m)
        assert (m["rating"] == -1) == (decided[name] == "reject")
    assert exported.keys() == again.keys()
    photos = lambda sums: {k: v for k, v in sums.items() if not k.lower().endswith(".xmp")}  # noqa: E731
    assert photos(checksums(root)) == photos(before)
