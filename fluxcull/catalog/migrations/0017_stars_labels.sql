-- Stars (0-5) and colour labels (red, yellow, green, blue, purple), the photographer's own marks set in
-- fluxcull (keys 0-9, `fluxcull rate`, `fluxcull label`). The photo's current state is kept on the
-- photos row (rating 0: no stars; color_label NULL: no label), and every change is an event of the
-- decision log (kind 'rate' or 'label'), written in the same transaction, so it is undone like a
-- decision. These are not the marks imported from XMP (imported_marks): those are what other
-- applications said.
ALTER TABLE photos ADD COLUMN rating INTEGER NOT NULL DEFAULT 0 CHECK (rating >= 0 AND rating <= 5);
ALTER TABLE photos ADD COLUMN color_label TEXT
    CHECK (color_label IS NULL OR color_label IN ('red', 'yellow', 'green', 'blue', 'purple'));
-- few photos are rated or labelled: the grid's "3 stars or more" and "Red" filters read these
CREATE INDEX photos_rated ON photos(rating, capture_time) WHERE rating > 0;
CREATE INDEX photos_labelled ON photos(color_label, capture_time) WHERE color_label IS NOT NULL;

-- The decision log's kind CHECK (migration 0001) cannot be altered in place: the table is rebuilt with
-- 'rate' and 'label' allowed and a `value` column (the new stars or label of a 'rate' / 'label' event;
-- `previous` holds the old one, as it holds the old decision of a keep / reject / clear), every event
-- copied with its id, then its indexes and append-only triggers made again.
CREATE TABLE decision_events_0017 (
    id             INTEGER PRIMARY KEY,
    photo_id       INTEGER NOT NULL REFERENCES photos(id),
    kind           TEXT NOT NULL CHECK (kind IN ('keep', 'reject', 'clear', 'undo', 'prefer', 'link', 'unlink',
                                                 'rate', 'label')),
    other_photo_id INTEGER REFERENCES photos(id),
    previous       TEXT,
    source         TEXT NOT NULL,
    detail         TEXT,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    batch          INTEGER,
    value          TEXT
);
INSERT INTO decision_events_0017 (id, photo_id, kind, other_photo_id, previous, source, detail, created_at, batch)
SELECT id, photo_id, kind, other_photo_id, previous, source, detail, created_at, batch FROM decision_events;
DROP TABLE decision_events;
ALTER TABLE decision_events_0017 RENAME TO decision_events;
CREATE INDEX decision_events_photo ON decision_events(photo_id, id);
CREATE INDEX decision_events_kind ON decision_events(kind, id);
CREATE INDEX decision_events_batch ON decision_events(batch) WHERE batch IS NOT NULL;

CREATE TRIGGER decision_events_no_update BEFORE UPDATE ON decision_events
BEGIN
    SELECT RAISE(ABORT, 'decision_events is append-only');
END;

CREATE TRIGGER decision_events_no_delete BEFORE DELETE ON decision_events
BEGIN
    SELECT RAISE(ABORT, 'decision_events is append-only');
END;
