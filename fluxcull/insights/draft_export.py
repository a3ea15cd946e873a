"""A draft carried out: a contact-sheet PDF, a CSV, or its photos copied / linked into a folder.

The PDF is drawn with matplotlib's PDF backend (no Qt below the GUI): A4 portrait pages of
`COLS x ROWS` cells, each the photo's thumbnail (LIBRARY/thumbs; a grey "no preview" box where
there is none) with a caption: position, date and time, place, keeper score. Files in DEST are
named `NN_<file name>` so a folder listing shows the draft's sequence; existing files are never
overwritten.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
from pathlib import Path

from fluxcull.catalog import Catalog
from fluxcull.catalog import drafts as store_drafts
from fluxcull.errors import InvalidValue, NotFound

COLS, ROWS = 3, 4
PAGE_INCHES = (8.27, 11.69)  # A4
MODES = ("copy", "symlink")
CSV_COLUMNS = ("position", "photo_id", "path", "date", "place", "score", "session_id")


def load(conn, draft_id: int) -> dict:
    d = store_drafts.draft(conn, int(draft_id))
    if d is None:
        raise NotFound(f"no draft {draft_id}: `fluxcull drafts` lists them")
    return d


def when(item: dict) -> str:
    t = item.get("capture_time")
    if t is None:
        return "undated"
    return dt.datetime.fromtimestamp(float(t), dt.timezone.utc).strftime("%Y-%m-%d %H:%M")


def caption(item: dict) -> str:
    parts = [f"{item['position']}.", when(item)]
    if item.get("place"):
        parts.append(str(item["place"]))
    score = item.get("score")
    parts.append(f"score {score:.2f}" if score is not None else "no score")
    return " · ".join(parts[:2]) + "\n" + " · ".join(parts[2:])


def write_csv(d: dict, path: str | os.PathLike) -> Path:
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for it in d["items"]:
            w.writerow([it["position"], it["photo_id"], it["path"], when(it), it.get("place") or "",
                        f"{it['score']:.4f}" if it.get("score") is not None else "", it.get("session_id") or ""])
    return path


def _preview(lib, item: dict):
    """The photo's thumbnail as an RGB array, or None."""
    from PIL import Image

    from fluxcull.media.thumbs import thumb_path

    key = item.get("thumb_key")
    if not key:
        return None
    try:
        with Image.open(thumb_path(lib, key)) as im:
            im.draft("RGB", (400, 400))
            import numpy as np

            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError):
        return None


def write_pdf(lib, d: dict, path: str | os.PathLike) -> dict:
    """The contact sheet; returns {"path", "pages"}."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    path = Path(path)
    items = d["items"]
    per_page = COLS * ROWS
    pages = max(1, -(-len(items) // per_page))
    title = f"fluxcull draft {d['id']} ({d['status']}) — {len(items)} photos"
    with PdfPages(path, metadata={"Title": title, "Creator": "fluxcull"}) as pdf:
        for page in range(pages):
            fig = Figure(figsize=PAGE_INCHES)
            fig.suptitle(f"{title} — page {page + 1}/{pages}", fontsize=10)
            chunk = items[page * per_page:(page + 1) * per_page]
            for k in range(per_page):
                ax = fig.add_subplot(ROWS, COLS, k + 1)
                ax.set_axis_off()
                if k >= len(chunk):
                    continue
                it = chunk[k]
                img = _preview(lib, it)
                if img is not None:
                    ax.imshow(img)
                else:
                    ax.set_facecolor("#dddddd")
                    ax.text(0.5, 0.5, "no preview", ha="center", va="center", transform=ax.transAxes,
                            fontsize=8, color="#555555")
                    ax.add_patch(matplotlib.patches.Rectangle((0, 0), 1, 1, transform=ax.transAxes,
                                                              color="#dddddd", zorder=-1))
                ax.set_title(caption(it), fontsize=7)
            fig.tight_layout(rect=(0, 0, 1, 0.97))
            pdf.savefig(fig)
    return {"path": str(path), "pages": pages}


def write_files(lib, conn, d: dict, dest: str | os.PathLike, mode: str = "copy") -> dict:
    """Copy or symlink the draft's photos into dest as NN_<name>; returns counts and problems."""
    from fluxcull.interop.places import check_destination

    if mode not in MODES:
        raise InvalidValue(f"--mode {mode}: expected one of {', '.join(MODES)}")
    folder = check_destination(Catalog(conn), Path(dest))
    folder.mkdir(parents=True, exist_ok=True)
    width = max(2, len(str(len(d["items"]))))
    done, skipped, errors = [], [], []
    for it in d["items"]:
        src = Path(it["path"])
        target = folder / f"{it['position']:0{width}d}_{src.name}"
        if target.exists() or target.is_symlink():
            skipped.append({"path": str(target), "reason": "exists"})
            continue
        try:
            if mode == "symlink":
                target.symlink_to(src)
            else:
                shutil.copy2(src, target)
            done.append(str(target))
        except OSError as exc:
            errors.append({"path": str(src), "error": exc.strerror or str(exc)})
    return {"folder": str(folder), "mode": mode, "written": len(done), "skipped": skipped, "errors": errors}


def export(lib, conn, draft_id: int, kind: str, path: str | os.PathLike, mode: str = "copy") -> dict:
    """Draft `draft_id` carried out as `kind` ('pdf', 'csv' or 'files' into the folder `path`):
    {format, path, pages | rows} or {format, folder, mode, written, skipped, errors}, with draft and status."""
    d = load(conn, draft_id)
    if kind == "pdf":
        out = {"format": "pdf", **write_pdf(lib, d, path)}
    elif kind == "csv":
        out = {"format": "csv", "path": str(write_csv(d, path)), "rows": len(d["items"])}
    elif kind == "files":
        out = {"format": "files", **write_files(lib, conn, d, path, mode)}
    else:
        raise InvalidValue(f"export as {kind!r}: expected pdf, csv or files")
    out["draft"], out["status"] = d["id"], d["status"]
    return out
