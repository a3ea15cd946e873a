-- Links from keeper-archive photos (role 'keepers') to their originals (role 'originals').
-- A keeper links to at most one original (keeper_id is the key); one original may have several
-- keepers. A link with needs_review = 0 makes its original a confirmed keeper (score 1.0).
-- manual = 1 marks a person's decision (fluxcull link / unlink), never overridden automatically;
-- a manual "no original" decision is a row with original_id NULL.
CREATE TABLE keeper_links (
    keeper_id    INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    original_id  INTEGER REFERENCES photos(id) ON DELETE CASCADE,
    method       TEXT NOT NULL CHECK (method IN ('timestamp', 'filename', 'sha256', 'similarity', 'manual')),
    evidence     TEXT,
    similarity   REAL,
    needs_review INTEGER NOT NULL DEFAULT 0 CHECK (needs_review IN (0, 1)),
    manual       INTEGER NOT NULL DEFAULT 0 CHECK (manual IN (0, 1)),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX keeper_links_original ON keeper_links(original_id);
