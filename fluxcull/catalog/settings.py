"""Library settings, declared once: key, type, default, description, validation.

Settings are stored as text in the catalog's `settings` table. `get(conn, key)` returns the typed
value (the default where none is stored); `put(conn, key, value)` validates and stores one. The
settings dialog is generated from `SETTINGS` (fluxcull.ui.settings), and `fluxcull/ui` reads them
through `Catalog.setting`. Nothing here imports Qt or the keeper model.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from fluxcull.catalog.db import transaction

# kinds of value: how one is parsed from its stored text and edited in the dialog
FOLDER, TEXT, INT, CHOICE, JSON = "folder", "text", "int", "choice", "json"


@dataclass(frozen=True)
class Part:
    """One number of a JSON setting declared by its parts: its key in the object, its default (what a
    key left out means) and the values allowed; the dialog edits each as a field of its own."""
    key: str
    label: str                      # the dialog's words beside its field
    default: float
    minimum: float
    maximum: float
    decimals: int = 0               # 0: a whole number
    suffix: str = ""                # the unit the dialog shows ("s")
    description: str = ""

    def problem(self, setting: str, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            return f"{setting}: {self.key} must be a number"
        if not self.minimum <= value <= self.maximum:
            return f"{setting}: {self.key} must be from {self.minimum:g} to {self.maximum:g}, not {value:g}"
        if self.decimals == 0 and value != int(value):
            return f"{setting}: {self.key} must be a whole number"
        return None


@dataclass(frozen=True)
class Setting:
    key: str
    kind: str                       # FOLDER, TEXT, INT, CHOICE or JSON
    default: Any
    label: str                      # the dialog's field label
    description: str                # tooltip and documentation
    choices: tuple[str, ...] = ()   # CHOICE: the allowed values
    minimum: int | None = None      # INT bounds
    maximum: int | None = None
    zero: str | None = None         # INT: what 0 means, said in the dialog (default "automatic" when 0 is the default)
    suggestions: str | None = None  # TEXT: a named list the dialog offers (e.g. "backbones")
    in_dialog: bool = True          # shown in Library settings (a JSON setting only when declared by its parts)
    check: Callable[[Any], str | None] | None = None  # extra validation: a problem, or None
    parts: tuple[Part, ...] = ()    # JSON: the numbers it holds, each checked and edited on its own

    def parse(self, text: str | None) -> Any:
        """The typed value of stored text (None or '' -> the default)."""
        if text is None or text == "":
            return self.default
        if self.kind == INT:
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"setting {self.key}: {text!r} is not a whole number") from None
        if self.kind == JSON:
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"setting {self.key} is not valid JSON: {exc}") from exc
        return text

    def validate(self, value: Any) -> str | None:
        """A problem with `value`, or None."""
        if self.kind == INT:
            if not isinstance(value, int) or isinstance(value, bool):
                return f"{self.label}: expected a whole number"
            if self.minimum is not None and value < self.minimum:
                return f"{self.label}: at least {self.minimum}"
            if self.maximum is not None and value > self.maximum:
                return f"{self.label}: at most {self.maximum}"
        elif self.kind == CHOICE and value not in self.choices:
            return f"{self.label}: {value!r} is not one of {', '.join(self.choices)}"
        elif self.kind == JSON and not isinstance(value, dict):
            return f"{self.label}: expected a JSON object"
        elif self.kind in (FOLDER, TEXT) and not isinstance(value, str):
            return f"{self.label}: expected text"
        if self.parts:
            by_key = {p.key: p for p in self.parts}
            for k, v in value.items():
                if k not in by_key:
                    return f"{self.key}: unknown key {k!r} (have {', '.join(by_key)})"
                problem = by_key[k].problem(self.key, v)
                if problem:
                    return problem
        return self.check(value) if self.check is not None else None

    def defaults(self) -> dict[str, float]:
        """A JSON setting's parts, each at its default."""
        return {p.key: p.default for p in self.parts}

    def format(self, value: Any) -> str:
        """The stored text of a valid value."""
        if self.kind == JSON:
            return json.dumps(value, sort_keys=True)
        if self.kind == FOLDER and value:
            return str(Path(value).expanduser().resolve())
        return str(value)


def _existing_folder(value: str) -> str | None:
    if value and not Path(value).expanduser().is_dir():
        return f"{value}: not a folder"
    return None


EXPORT_XMP_DEFAULTS = {"keep_rating": 3, "keep_label": "Green", "reject_label": "Red", "destination": "mirror"}


def _export_xmp_problem(value: dict) -> str | None:
    for k, v in value.items():
        if k not in EXPORT_XMP_DEFAULTS:
            return f"export.xmp: unknown key {k!r} (have {', '.join(EXPORT_XMP_DEFAULTS)})"
        if k == "keep_rating" and (not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 5):
            return "export.xmp: keep_rating must be a whole number of stars from 1 to 5"
        if k in ("keep_label", "reject_label") and (not isinstance(v, str) or len(v) > 64):
            return f"export.xmp: {k} must be text (64 characters at most; empty: no label)"
        if k == "destination" and v not in ("mirror", "sidecar"):
            return "export.xmp: destination must be 'mirror' (a folder in the library) or 'sidecar' (beside the photos)"
    return None


# stars as training labels (fluxcull.keeper.stars): see the setting's description and the README
TRAINING_STARS_DEFAULTS = {"keeper_from": 3, "weight": 2.0, "per_star": 0.5, "negative_up_to": 0,
                           "negative_weight": 1.5}


def _training_stars_problem(value: dict) -> str | None:
    merged = {**TRAINING_STARS_DEFAULTS, **value}
    for k, v in value.items():
        if k not in TRAINING_STARS_DEFAULTS:
            return f"training.stars: unknown key {k!r} (have {', '.join(TRAINING_STARS_DEFAULTS)})"
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v in (float("inf"), float("-inf")):
            return f"training.stars: {k} must be a number"
        if k in ("keeper_from", "negative_up_to") and (not isinstance(v, int) or not 0 <= v <= 5):
            return f"training.stars: {k} must be a whole number of stars from 0 (off) to 5"
        if k in ("weight", "negative_weight") and not 0 < v <= 100:
            return f"training.stars: {k} must be above 0 (and at most 100)"
        if k == "per_star" and not 0 <= v <= 100:
            return "training.stars: per_star must be 0 or more (and at most 100)"
    if merged["keeper_from"] and merged["negative_up_to"] >= merged["keeper_from"]:
        return "training.stars: negative_up_to must be below keeper_from (a rating cannot say keeper and not)"
    return None


SETTINGS: tuple[Setting, ...] = (
    Setting("originals_dir", FOLDER, "", "ORIGINALS (the full corpus)",
            "Every frame you shot; fluxcull only reads it.", check=_existing_folder),
    Setting("keepers_dir", FOLDER, "", "KEEPERS (your keeper archive)",
            "The exports you kept over the years; linked to their originals.", check=_existing_folder),
    Setting("inbox_dir", FOLDER, "", "INBOX (new photos, watched)",
            "New shoots; watched, ingested, embedded and scored as they arrive (created if missing)."),
    Setting("backbone", TEXT, "", "Backbone",
            "Embedding backbone (empty: the default). A change re-embeds every photo.", suggestions="backbones"),
    Setting("embed.precision", CHOICE, "fp32", "Embedding precision",
            "int8: the backbone's 8-bit quantized model (about 2-3x faster on a CPU with VNNI, 1.2-1.45x with AVX2 "
            "alone; embeddings at a cosine of about 0.99 to float32's); fp32 (default): full precision; auto: what the "
            "library already has, else int8 on a CPU with VNNI and fp32 elsewhere. int8 and fp32 embeddings are kept apart: a change re-embeds every "
            "photo and the keeper model is trained again. $FLUXCULL_PRECISION overrides it.",
            choices=("auto", "int8", "fp32")),
    Setting("worker_threads", INT, 0, "Worker threads",
            "Worker processes for ingest (0: automatic, every core).", minimum=0, maximum=64),
    Setting("ingest.raw_jpeg_pairs", CHOICE, "on", "RAW+JPEG pairs",
            "on: a RAW and a JPEG (or HEIF) of the same name and capture time in one folder are one photo "
            "(one cell, one decision, counted once); off: two photos. Takes effect at the next ingest of "
            "a folder.", choices=("on", "off")),
    Setting("model.kind", CHOICE, "auto", "Keeper model",
            "The keeper model's method: linear or mlp pairwise ranker, centroid baseline, gradient-boosted "
            "trees (gbt), or auto (chosen by evaluation).",
            choices=("auto", "linear", "mlp", "centroid", "gbt")),
    Setting("model.device", CHOICE, "cpu", "Training device",
            "Where the keeper model trains: cpu, cuda, or auto (CUDA when present).",
            choices=("cpu", "cuda", "auto")),
    Setting("model.folds", INT, 5, "Evaluation folds",
            "Folds of the random-by-session evaluation.", minimum=2, maximum=20, in_dialog=False),
    Setting("model.pairs", JSON, {}, "Pair weights",
            "JSON object overriding the pair weights of training (fluxcull.keeper.pairs.PairConfig).",
            in_dialog=False),
    Setting("model.failures", JSON, {}, "Failure thresholds",
            "JSON object overriding the technical-failure thresholds (fluxcull.keeper.score.FailureRules).",
            in_dialog=False),
    Setting("bursts", JSON, {}, "Stacks (bursts)",
            "What makes a burst, the frames of one stack, which the keeper model compares with each other: at most "
            "gap_seconds between two frames (default 15) and a similarity of their embeddings of at least "
            "min_similarity (0-1, default 0.6); a JSON object, fluxcull.keeper.bursts.BurstRule. Saved in the "
            "window, a change computes the stacks again at once; otherwise the next embed does.",
            parts=(Part("gap_seconds", "at most", 15.0, 0.0, 3600.0, decimals=1, suffix=" s",
                        description="The most seconds between two frames of one burst"),
                   Part("min_similarity", "apart, looking alike at least", 0.6, 0.0, 1.0, decimals=2,
                        description="The least similarity (cosine of their embeddings, 0-1) of two frames of one "
                                    "burst: frames of one scene score 0.6-0.95, unrelated photos about 0.35"))),
    Setting("draft.per_session", INT, 4, "Draft: photos per session",
            "The most photos one session may give an issue draft (fluxcull draft).", minimum=1, maximum=1000),
    Setting("draft.rule", JSON, {}, "Draft diversity",
            "JSON object overriding an issue draft's diversity (fluxcull.insights.draft.DraftRule): max_similarity "
            "(cosine of two chosen photos' embeddings, default 0.8), relevance (the MMR weight of the keeper score "
            "against diversity, 0-1, default 0.7).", in_dialog=False),
    Setting("sequence.rule", JSON, {}, "Sequence weights",
            "JSON object overriding how sequence suggestions are scored (fluxcull.insights.sequence.SequenceRule): "
            "near_duplicate (cosine, default 0.9), similar (0.6), the weights duplicate (1.0), likeness (0.3), "
            "motif (0.3), tone (1.0), back_in_time (0.1 a place), back_to_session (0.3), ends (0.5), and window (flow's look-ahead, 5).",
            in_dialog=False),
    Setting("motifs", JSON, {}, "Motif clustering",
            "JSON object overriding motif clustering (fluxcull.insights.motifs.MotifRule): components (PCA "
            "dimensions, default 32), min_size (default 5), medoids (photos shown per motif, default 3).",
            in_dialog=False),
    Setting("compare.decides", CHOICE, "on", "Compare decides",
            "on: choosing the better of two undecided photos in compare also keeps it and rejects the other (one "
            "undo takes back the choice and both decisions); off: compare only records which one you preferred.",
            choices=("on", "off")),
    Setting("training.stars", JSON, {}, "Stars in training",
            "JSON object: how stars teach the keeper model. keeper_from (default 3; 0: off): a photo with at least "
            "this many stars is a keeper even when not marked keep; its weight in training is multiplied by "
            "weight + per_star x (stars - keeper_from) (defaults 2.0 and 0.5: 3 stars 2x, 4 stars 2.5x, 5 stars 3x, "
            "on top of the 1.5x a keep has). negative_up_to (default 0: off): photos with 1 to this many stars, "
            "neither kept nor confirmed keepers, are weak negatives weighted negative_weight (default 1.5; an "
            "implicit negative weighs 1, a reject 3). A reject is never a keeper, whatever its stars.",
            in_dialog=False, check=_training_stars_problem),
    Setting("training.recency_half_life_months", INT, 0, "Recency half-life (months)",
            "0: off (the default). Otherwise every photo's weight in training halves for each this many months "
            "it was taken before the newest photo trained on, so recent taste counts more; applied to every "
            "method and evaluated on both splits like any setting (fluxcull.keeper.recency).",
            minimum=0, maximum=600, zero="off"),
    Setting("drift.recent_months", INT, 12, "Taste drift: recent months",
            "The recent window of taste drift (Library ▸ Analytics, fluxcull analytics --drift): decisions on "
            "photos taken in the last this many months before the newest one, compared with the older ones.",
            minimum=1, maximum=600),
    Setting("export.xmp", JSON, {}, "XMP export",
            "JSON object: keep_rating (stars of a keep, 1-5, default 3), keep_label and reject_label (xmp:Label, "
            "default Green and Red; empty: none), destination (mirror: LIBRARY/export/xmp, the default; sidecar: "
            "beside the photos).", in_dialog=False, check=_export_xmp_problem),
)
BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}
FOLDER_ROLES = {"originals": "originals_dir", "keepers": "keepers_dir", "inbox": "inbox_dir"}


def declared(key: str) -> Setting:
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown setting {key!r}: expected one of {', '.join(BY_KEY)}") from None


def read_text(conn: sqlite3.Connection, key: str) -> str | None:
    """A setting's stored text, declared or not; None where none is stored."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def get(conn: sqlite3.Connection, key: str) -> Any:
    """The typed value of a declared setting (its default where none is stored)."""
    return declared(key).parse(read_text(conn, key))


def numbers_into(conn: sqlite3.Connection, key: str, target, *, non_negative: bool = False):
    """`target` (a dataclass of float thresholds) with the numbers of the JSON setting `key` put in;
    an unknown name, or with `non_negative` a value that is not a finite number >= 0, is refused."""
    import math
    from dataclasses import asdict

    for k, v in (get(conn, key) or {}).items():
        if not hasattr(target, k):
            raise ValueError(f"setting {key}: unknown key {k!r} (have {', '.join(asdict(target))})")
        v = float(v)
        if non_negative and not (math.isfinite(v) and v >= 0):
            raise ValueError(f"setting {key}: {k} must be a finite number >= 0, not {v}")
        setattr(target, k, v)
    return target


def write_text(conn: sqlite3.Connection, key: str, text: str) -> None:
    """Store a setting's text as given, in its own transaction (no declaration looked up, nothing
    validated: `put` is the checked way)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, text),
        )


def put(conn: sqlite3.Connection, key: str, value: Any) -> None:
    """Validate and store a declared setting (ValueError naming the problem)."""
    s = declared(key)
    problem = s.validate(value)
    if problem:
        raise ValueError(problem)
    write_text(conn, key, s.format(value))
