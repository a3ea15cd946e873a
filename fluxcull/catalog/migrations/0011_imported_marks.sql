-- Culling marks read from XMP at ingest: a photographer's past ratings, pick / reject flags, colour
-- labels and keywords, from a sidecar file (origin 'sidecar', source = the sidecar's path) or from the
-- packet embedded in the photo (origin 'embedded', source 'embedded'). They are not fluxcull decisions:
-- `fluxcull import-marks` turns them into decision events with source 'import'.
-- A row is kept even when the XMP held no marks or was refused (warning says why): a sidecar row's
-- size and mtime tell the next ingest whether the sidecar changed, and an embedded row says the
-- packet of this version of the file was looked for.
CREATE TABLE imported_marks (
    photo_id    INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    origin      TEXT NOT NULL CHECK (origin IN ('sidecar', 'embedded')),
    source      TEXT NOT NULL,
    size        INTEGER,
    mtime_ns    INTEGER,
    rating      INTEGER CHECK (rating IS NULL OR (rating >= -1 AND rating <= 5)),
    pick        TEXT CHECK (pick IS NULL OR pick IN ('picked', 'rejected')),
    label       TEXT,
    color_label INTEGER,
    pick_label  INTEGER,
    keywords    TEXT NOT NULL DEFAULT '[]',
    warning     TEXT,
    read_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (photo_id, origin)
);

-- Decision events written as one step (one `fluxcull import-marks`) share a batch: the id of the
-- batch's first event. `fluxcull undo` undoes a batch whole. NULL for a decision made alone.
ALTER TABLE decision_events ADD COLUMN batch INTEGER;
CREATE INDEX decision_events_batch ON decision_events(batch) WHERE batch IS NOT NULL;
