"""Shared by the export tests: a few real photos from ../shared/photos copied into tmp_path as the
originals, ingested and decided with the command line; an XMP reader written independently of
fluxcull's (plain xml.etree, by namespace URI); checksums of the originals."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from fluxcull.cli import main

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMP = "http://ns.adobe.com/xap/1.0/"
XMPDM = "http://ns.adobe.com/xmp/1.0/DynamicMedia/"
DIGIKAM = "http://www.digikam.org/ns/1.0/"
FLUX = "http://ns.fluxcull.org/xmp/1.0/"

# (source under ../shared/photos, where it goes under the originals folder)
PHOTOS = (
    ("exif-samples/jpg/Canon_40D.jpg", "2008/a/Canon_40D.jpg"),
    ("exif-samples/jpg/Nikon_D70.jpg", "2008/a/Nikon_D70.jpg"),
    ("exif-samples/jpg/Pentax_K10D.jpg", "2008/b/Pentax_K10D.jpg"),
    ("exif-samples/jpg/Canon_DIGITAL_IXUS_400.jpg", "2008/b/Canon_40D.jpg"),  # same name, other folder
    ("exif-py/tests/resources/raw/nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng",
     "2008/c/DSC_0001.dng"),
    ("exif-samples/jpg/Panasonic_DMC-FZ30.jpg", "2008/c/DSC_0001.JPG"),  # shares the RAW's stem
)


def build(shared_photos: Path, tmp_path: Path, capsys) -> dict:
    """Originals copied into tmp_path/originals, ingested into the library ($FLUXCULL_LIBRARY), ids by
    relative path."""
    root = tmp_path / "originals"
    for src, rel in PHOTOS:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared_photos / src, root / rel)
    assert main(["ingest", str(root), "--role", "originals", "--workers", "1"]) == 0
    capsys.readouterr()
    assert main(["photos", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    ids = {os.path.relpath(r["path"], root): r["id"] for r in rows}
    assert len(ids) == len(PHOTOS)
    return {"root": root, "ids": ids}


def decide(capsys, kind: str, *ids: int) -> None:
    assert main(["decide", *[str(i) for i in ids], f"--{kind}"]) == 0
    capsys.readouterr()


def run_json(capsys, argv: list[str], rc: int = 0) -> dict:
    got = main(argv + ["--json"])
    out = capsys.readouterr()
    assert got == rc, out.err
    return json.loads(out.out)


def read_back(path: Path) -> dict[str, str]:
    """Every simple property of the top-level rdf:Descriptions, keyed '{namespace URI}name'."""
    root = ET.parse(path).getroot()
    rdf = root if root.tag == f"{{{RDF}}}RDF" else root.find(f"{{{RDF}}}RDF")
    out: dict[str, str] = {}
    for desc in rdf.findall(f"{{{RDF}}}Description"):
        out.update({k: v for k, v in desc.attrib.items() if not k.startswith(f"{{{RDF}}}")})
        for child in desc:
            if len(child) == 0:
                out[child.tag] = child.text or ""
    return out


def marks(props: dict[str, str]) -> tuple:
    """(Rating, Label, pick, PickLabel, Decision, KeeperScore, Band) as read back."""
    return tuple(props.get(k) for k in (f"{{{XMP}}}Rating", f"{{{XMP}}}Label", f"{{{XMPDM}}}pick",
                                        f"{{{DIGIKAM}}}PickLabel", f"{{{FLUX}}}Decision",
                                        f"{{{FLUX}}}KeeperScore", f"{{{FLUX}}}Band"))


def checksums(root: Path) -> dict[str, str]:
    """Every regular file under root (relative path) -> its SHA-256."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = Path(d) / f
            out[os.path.relpath(p, root)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def mirror_of(library_root: Path, path: Path) -> Path:
    return Path(library_root) / "export" / "xmp" / str(path).lstrip(os.sep)


KEEP_MARKS = ("3", "Green", "1", "3", "keep", "1.0000", "confirmed")  # a keep, read back with `marks`
