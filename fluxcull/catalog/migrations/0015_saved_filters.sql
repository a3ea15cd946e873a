-- Finding photos: saved filters ("smart collections"), and what makes a camera, lens or date-range
-- filter fast on a large catalog (fluxcull.catalog.filters declares the filters, queries.PhotoQuery
-- holds their SQL).

-- A saved filter is a name and a filter expression in the `--where` grammar (fluxcull.catalog.filters),
-- parsed again each time it is used: its values are never SQL.
CREATE TABLE saved_filters (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    expression TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX saved_filters_name ON saved_filters(name COLLATE NOCASE);

-- The distinct cameras (make, model; '' where EXIF had none) and lenses of the catalog, kept by
-- triggers (a row is never removed: a camera without photos matches nothing). `camera~fuji` matches
-- this small table first and then looks its models up in photos_find_camera, instead of testing every
-- photo's make and model.
CREATE TABLE cameras (
    make  TEXT NOT NULL,
    model TEXT NOT NULL,
    PRIMARY KEY (make, model)
) WITHOUT ROWID;
INSERT OR IGNORE INTO cameras (make, model)
SELECT DISTINCT COALESCE(camera_make, ''), COALESCE(camera_model, '') FROM photos
WHERE camera_make IS NOT NULL OR camera_model IS NOT NULL;

CREATE TABLE lenses (
    name TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;
INSERT OR IGNORE INTO lenses (name) SELECT DISTINCT lens FROM photos WHERE lens IS NOT NULL;

CREATE TRIGGER photos_cameras_insert AFTER INSERT ON photos
WHEN NEW.camera_make IS NOT NULL OR NEW.camera_model IS NOT NULL
BEGIN
    INSERT INTO cameras (make, model)
    SELECT COALESCE(NEW.camera_make, ''), COALESCE(NEW.camera_model, '')
    WHERE NOT EXISTS (SELECT 1 FROM cameras WHERE make = COALESCE(NEW.camera_make, '')
                                              AND model = COALESCE(NEW.camera_model, ''));
END;

CREATE TRIGGER photos_cameras_update AFTER UPDATE OF camera_make, camera_model ON photos
WHEN NEW.camera_make IS NOT NULL OR NEW.camera_model IS NOT NULL
BEGIN
    INSERT INTO cameras (make, model)
    SELECT COALESCE(NEW.camera_make, ''), COALESCE(NEW.camera_model, '')
    WHERE NOT EXISTS (SELECT 1 FROM cameras WHERE make = COALESCE(NEW.camera_make, '')
                                              AND model = COALESCE(NEW.camera_model, ''));
END;

CREATE TRIGGER photos_lenses_insert AFTER INSERT ON photos
WHEN NEW.lens IS NOT NULL
BEGIN
    INSERT INTO lenses (name) SELECT NEW.lens WHERE NOT EXISTS (SELECT 1 FROM lenses WHERE name = NEW.lens);
END;

CREATE TRIGGER photos_lenses_update AFTER UPDATE OF lens ON photos
WHEN NEW.lens IS NOT NULL
BEGIN
    INSERT INTO lenses (name) SELECT NEW.lens WHERE NOT EXISTS (SELECT 1 FROM lenses WHERE name = NEW.lens);
END;

-- A camera (or lens) with a capture-time range: the matching models are bound as a list
-- (fluxcull.catalog.queries.camera_clause), each read as one index range, its status, time and role in
-- the index. Photos whose EXIF names a make but no model are found by make (a small partial index).
CREATE INDEX photos_find_camera ON photos(camera_model, status, capture_time, role);
CREATE INDEX photos_find_make ON photos(camera_make, status, capture_time, role) WHERE camera_model IS NULL;
CREATE INDEX photos_find_lens ON photos(lens, status, capture_time, role);
