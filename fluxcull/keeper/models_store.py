"""Keeper model versions: saved as plain arrays + JSON under `lib.models_dir`, listed in the catalog.

A version's folder holds `model.npz` (numpy arrays only, loaded with allow_pickle=False: nothing is
ever unpickled), `model.json` (kind, backbone id, feature schema, hyper-parameters, training
summary, metrics) and, for models that have one, text parts in their library's own format (the
gradient-boosted trees as LightGBM text, `booster.txt`). The catalog row (table model_versions) is written only after both files are
complete; the active version is switched in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fluxcull.catalog import model_versions as versions
from fluxcull.catalog import transaction
from fluxcull.errors import InvalidValue, Unavailable


class ModelMismatch(InvalidValue):
    """The model was trained on other embeddings or features than the library has now."""


class ModelDamaged(InvalidValue):
    """A model version's files are unreadable or hold values no model can have (NaN, infinity)."""


@dataclass
class SavedModel:
    """What a model version holds: its arrays and its description."""

    kind: str
    backbone_id: str
    feature_schema: str
    arrays: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    id: int | None = None
    path: Path | None = None
    metrics: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    active: bool = False
    created_at: str | None = None


def save_version(lib, conn: sqlite3.Connection, model: SavedModel, *, activate: bool = False) -> int:
    """Write the model's files, then its catalog row (and switch the active version if asked)."""
    lib.models_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    name = f"{stamp}-{model.kind}-{uuid.uuid4().hex[:8]}"
    tmp = lib.models_dir / f".{name}.tmp"
    tmp.mkdir(parents=True)
    try:
        with open(tmp / "model.npz", "wb") as fh:
            np.savez(fh, **{k: np.ascontiguousarray(v) for k, v in model.arrays.items()})
            fh.flush()
            os.fsync(fh.fileno())
        desc = {
            "format": 1,
            "kind": model.kind,
            "backbone_id": model.backbone_id,
            "feature_schema": model.feature_schema,
            "meta": model.meta,
            "metrics": jsonable(model.metrics),
            "training": jsonable(model.training),
            "texts": sorted(model.texts),
        }
        for tname, text in model.texts.items():
            if not tname.isidentifier():
                raise ValueError(f"bad model text name {tname!r}")
            with open(tmp / f"{tname}.txt", "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        with open(tmp / "model.json", "w", encoding="utf-8") as fh:
            json.dump(jsonable(desc), fh, indent=1, default=_json_default)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, lib.models_dir / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with transaction(conn):
        vid = versions.insert_version(
            conn,
            model.kind, model.backbone_id, model.feature_schema, name,
            json.dumps(jsonable(model.metrics), default=_json_default),
            json.dumps(jsonable(model.training), default=_json_default),
        )
        if activate:
            activate_version(conn, vid)
    model.id, model.path = vid, lib.models_dir / name
    return vid


def activate_version(conn: sqlite3.Connection, version_id: int) -> None:
    """Make one version the active one (atomically: no moment with two or with none)."""
    with transaction(conn):
        if not versions.version_exists(conn, version_id):
            raise KeyError(f"no model version {version_id}")
        versions.set_active(conn, version_id)


def active_version_id(conn: sqlite3.Connection) -> int | None:
    return versions.active_version_id(conn)


def _decode_row(r) -> dict:
    d = dict(r)
    d["metrics"] = json.loads(d["metrics"] or "{}")
    d["training"] = json.loads(d["training"] or "{}")
    d["active"] = bool(d["active"])
    return d


def list_versions(conn: sqlite3.Connection) -> list[dict]:
    return [_decode_row(r) for r in versions.version_rows(conn)]


def version_row(conn: sqlite3.Connection, version_id: int) -> dict:
    r = versions.version_row(conn, version_id)
    if r is None:
        raise KeyError(f"no model version {version_id}")
    return _decode_row(r)


def load_version(lib, conn: sqlite3.Connection, version_id: int | None = None) -> SavedModel:
    """Load a version (default: the active one) from plain arrays and JSON; never unpickles."""
    if version_id is None:
        version_id = active_version_id(conn)
        if version_id is None:
            raise Unavailable("no keeper model trained yet: run `fluxcull train` first")
    row = version_row(conn, version_id)
    folder = lib.models_dir / row["path"]
    try:
        with open(folder / "model.json", encoding="utf-8") as fh:
            desc = json.load(fh)
        with np.load(folder / "model.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        texts = {}
        for tname in desc.get("texts", []):
            if not str(tname).isidentifier():
                raise ValueError(f"bad model text name {tname!r}")
            texts[tname] = (folder / f"{tname}.txt").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"model version {version_id}: files missing in {folder} ({exc.filename})") from exc
    except (ValueError, OSError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        raise ModelDamaged(f"model version {version_id}: unreadable model files in {folder}: {exc}") from exc
    for name, a in arrays.items():
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ModelDamaged(f"model version {version_id}: {name} in {folder / 'model.npz'} holds NaN or infinite "
                               "values: retrain with `fluxcull train` or activate another version (`fluxcull models`)")
    return SavedModel(
        kind=row["kind"], backbone_id=row["backbone_id"], feature_schema=row["feature_schema"], arrays=arrays,
        meta=desc.get("meta", {}), texts=texts, id=version_id, path=folder, metrics=row["metrics"], training=row["training"],
        active=row["active"], created_at=row["created_at"],
    )


def jsonable(o):
    """A copy of o with numpy values made plain and NaN/inf made None (strict JSON)."""
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return jsonable(o.tolist())
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (float, np.floating)):
        return float(o) if np.isfinite(o) else None
    return o


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
