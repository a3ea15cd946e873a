-- fluxcull catalog, schema 1: photos, sessions, the decision log.
-- Times are ISO-8601 text. capture_time is seconds since the epoch of the photo's local wall-clock
-- time (EXIF DateTimeOriginal read as if it were UTC), used for sorting and session gaps; where a
-- photo has no capture time the file's mtime stands in and time_source says so.

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('originals', 'keepers', 'inbox')),
    start_time  REAL NOT NULL,
    end_time    REAL NOT NULL,
    start_at    TEXT NOT NULL,
    end_at      TEXT NOT NULL,
    photo_count INTEGER NOT NULL DEFAULT 0,
    gps_lat     REAL,
    gps_lon     REAL,
    place       TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX sessions_role_start ON sessions(role, start_time);

CREATE TABLE photos (
    id                 INTEGER PRIMARY KEY,
    path               TEXT NOT NULL UNIQUE,
    role               TEXT NOT NULL CHECK (role IN ('originals', 'keepers', 'inbox')),
    size               INTEGER NOT NULL,
    mtime_ns           INTEGER NOT NULL,
    sha256             TEXT,
    format             TEXT,
    width              INTEGER,
    height             INTEGER,
    orientation        INTEGER,
    taken_at           TEXT,
    taken_offset       TEXT,
    capture_time       REAL,
    time_source        TEXT CHECK (time_source IN ('exif', 'mtime') OR time_source IS NULL),
    camera_make        TEXT,
    camera_model       TEXT,
    lens               TEXT,
    focal_length       REAL,
    focal_length_35mm  REAL,
    aperture           REAL,
    shutter            REAL,
    iso                INTEGER,
    subject_distance   REAL,
    gps_lat            REAL,
    gps_lon            REAL,
    gps_alt            REAL,
    original_filename  TEXT,
    session_id         INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
    thumb_key          TEXT,
    thumb_source       TEXT,
    status             TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'error', 'missing')),
    error              TEXT,
    keeper_score       REAL CHECK (keeper_score IS NULL OR (keeper_score >= 0.0 AND keeper_score <= 1.0)),
    decision           TEXT NOT NULL DEFAULT 'none' CHECK (decision IN ('keep', 'reject', 'none')),
    decided_at         TEXT,
    added_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX photos_role_time ON photos(role, capture_time, id);
CREATE INDEX photos_time ON photos(capture_time, id);
CREATE INDEX photos_score ON photos(keeper_score DESC, id);
CREATE INDEX photos_role_score ON photos(role, keeper_score DESC, id);
CREATE INDEX photos_session_time ON photos(session_id, capture_time, id);
CREATE INDEX photos_taken_at ON photos(taken_at);
CREATE INDEX photos_original_filename ON photos(original_filename COLLATE NOCASE);
CREATE INDEX photos_sha256 ON photos(sha256);
CREATE INDEX photos_status ON photos(role, status);
CREATE INDEX photos_decision ON photos(decision);

-- Append-only log of every human (or scripted) decision: the training data of later models.
-- kind: keep | reject | clear | undo | prefer | link | unlink
-- For 'prefer', photo_id is the winner and other_photo_id the loser.
-- previous holds the decision the photo had before, so an undo can restore it.
CREATE TABLE decision_events (
    id             INTEGER PRIMARY KEY,
    photo_id       INTEGER NOT NULL REFERENCES photos(id),
    kind           TEXT NOT NULL CHECK (kind IN ('keep', 'reject', 'clear', 'undo', 'prefer', 'link', 'unlink')),
    other_photo_id INTEGER REFERENCES photos(id),
    previous       TEXT,
    source         TEXT NOT NULL,
    detail         TEXT,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX decision_events_photo ON decision_events(photo_id, id);
CREATE INDEX decision_events_kind ON decision_events(kind, id);

CREATE TRIGGER decision_events_no_update BEFORE UPDATE ON decision_events
BEGIN
    SELECT RAISE(ABORT, 'decision_events is append-only');
END;

CREATE TRIGGER decision_events_no_delete BEFORE DELETE ON decision_events
BEGIN
    SELECT RAISE(ABORT, 'decision_events is append-only');
END;

-- Small key/value settings of the library (folders, backbone, worker threads).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
