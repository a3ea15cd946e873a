"""Typed records the catalog API hands out.

Records are TypedDicts: plain dicts at run time (a grid page of 256 costs nothing extra, and a
record can be updated in place where it lies in a page cache), typed for readers and checkers.
"""

from __future__ import annotations

from typing import TypedDict

# the columns a grid cell paints (and the loupe shows until the full record arrives)
GRID_COLUMNS = (
    "id", "path", "role", "thumb_key", "keeper_score", "decision", "capture_time", "taken_at", "width",
    "height", "format", "session_id", "camera_model", "status", "original_filename", "base_score", "failure",
    "error", "paired", "rating", "color_label", "stack_id", "stack_size", "stack_position",
)


class GridRecord(TypedDict, total=False):
    id: int | None
    path: str
    role: str
    thumb_key: str | None
    keeper_score: float | None
    decision: str
    capture_time: float | None
    taken_at: str | None
    width: int | None
    height: int | None
    format: str | None
    session_id: int | None
    camera_model: str | None
    status: str
    original_filename: str | None
    base_score: float | None    # the score by rules 2-5, what a clear restores
    failure: str | None         # a technical failure (rule 4): 'blank', 'black', 'blurred'
    error: str | None           # why the file failed to ingest (status 'error'), or a warning
    paired: int                 # 1: the JPEG of a RAW+JPEG pair (its RAW is decided with it), else 0
    rating: int                 # stars, 0-5 (0: none; fluxcull.catalog.ratings)
    color_label: str | None     # red, yellow, green, blue, purple, or None
    stack_id: int | None        # its burst (the photo id of the first frame); None: no stack yet
    stack_size: int | None      # frames in its stack (1: alone)
    stack_position: int | None  # 1.. in capture order


class PhotoRecord(GridRecord, total=False):
    """Every column of a photo (fluxcull.catalog.queries.PHOTO_FIELDS)."""

    size: int
    mtime_ns: int
    sha256: str | None
    orientation: int | None
    taken_offset: str | None
    time_source: str | None
    camera_make: str | None
    lens: str | None
    focal_length: float | None
    focal_length_35mm: float | None
    aperture: float | None
    shutter: float | None
    iso: int | None
    subject_distance: float | None
    gps_lat: float | None
    gps_lon: float | None
    gps_alt: float | None
    thumb_source: str | None
    decided_at: str | None
    added_at: str
    updated_at: str


class SessionRecord(TypedDict, total=False):
    id: int
    role: str
    start_time: float
    end_time: float
    start_at: str
    end_at: str
    photo_count: int
    gps_lat: float | None
    gps_lon: float | None
    place: str | None
    keepers: int                # photos kept or confirmed
    keeper_density: float       # keepers / photo_count
    mean_score: float | None


class SourceList(TypedDict):
    """What the source panel shows: per role (photos, kept or confirmed), every session, and the
    saved filters ({name, expression, ...})."""

    counts: dict[str, tuple[int, int]]
    sessions: list[SessionRecord]
    saved_filters: list[dict]


class DecisionCounts(TypedDict):
    keep: int
    reject: int
    none: int
    scored: int
    keepers: int    # kept or confirmed (a confirmed keeper marked reject is none)


class ProblemRecord(TypedDict):
    """A file that failed to ingest (status 'error'), with the reason."""

    id: int
    path: str
    role: str
    error: str | None
    updated_at: str


class Undone(TypedDict):
    event_id: int
    photo_id: int
    kind: str               # keep, reject, clear, prefer, rate or label
    restored: str | None    # the decision, stars or label restored (None for a preference)
    photo_ids: list[int]    # the photos it touched


def placeholder(photo_id: int | None) -> GridRecord:
    """A row whose record is not read (yet): a photo gone from the catalog, or an id still loading."""
    return {"id": photo_id, "path": "", "decision": "none", "keeper_score": None, "thumb_key": None,
            "status": "missing" if photo_id else "loading", "role": ""}
