"""The selection an export files run leaves in DEST, for other applications and scripts:

  fluxcull-selection.txt  one absolute path of an original a line (UTF-8)
  fluxcull-selection.csv  path, file_name, decision, keeper_score, rating, band, exported

`rating` is what the XMP export writes into a new sidecar (the photo's stars, else the keep stars for a
keep, -1 for a reject, empty when undecided and unrated); `exported` is the file's path in DEST (empty
with --mode list or when it failed). Both are rewritten whole (atomically) by every run.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from fluxcull.catalog.scores import band_of
from fluxcull.interop.fileio import write_atomic
from fluxcull.interop.xmp_fields import XmpPolicy, rating_written

LIST_NAME = "fluxcull-selection.txt"
CSV_NAME = "fluxcull-selection.csv"
CSV_COLUMNS = ("path", "file_name", "decision", "keeper_score", "rating", "band", "exported")


def csv_row(photo: dict, exported: str | None, policy: XmpPolicy) -> dict:
    decision = photo.get("decision") or "none"
    score = photo.get("keeper_score")
    return {"path": photo["path"], "file_name": os.path.basename(photo["path"]), "decision": decision,
            "keeper_score": "" if score is None else f"{float(score):.4f}",
            "rating": rating_written(photo, policy),
            "band": band_of(score), "exported": exported or ""}


def write_selection(dest: Path, rows: list[tuple[dict, str | None]], policy: XmpPolicy) -> tuple[Path, Path]:
    """Write the list and the CSV of (photo, its exported path) into DEST; returns their paths."""
    # a path with a line break cannot stand on one line: the CSV (quoted) still holds it
    lines = "".join(p["path"] + "\n" for p, _ in rows if "\n" not in p["path"] and "\r" not in p["path"])
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    w.writeheader()
    for photo, exported in rows:
        w.writerow(csv_row(photo, exported, policy))
    list_path, csv_path = dest / LIST_NAME, dest / CSV_NAME
    write_atomic(list_path, lines.encode("utf-8"))
    write_atomic(csv_path, buf.getvalue().encode("utf-8"))
    return list_path, csv_path
