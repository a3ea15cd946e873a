-- What the keeper model enables (fluxcull.insights): issue drafts and motifs.
-- Numbered 0016 so that it lands after migrations other branches add; gaps in the numbering are
-- allowed (fluxcull.catalog.db.migrations).

-- An issue draft: N photos the model proposes, in sequence; nothing is final until the
-- photographer approves it (status 'approved', approved_at set). params: the JSON options it was
-- proposed with (size, dates, sessions, min_score, rule).
CREATE TABLE drafts (
    id          INTEGER PRIMARY KEY,
    status      TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'approved')),
    size        INTEGER NOT NULL CHECK (size >= 1),
    params      TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    approved_at TEXT
);

-- A draft's photos in order (position 1..size), with the keeper score each had when proposed.
CREATE TABLE draft_items (
    draft_id INTEGER NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 1),
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    score    REAL,
    PRIMARY KEY (draft_id, position),
    UNIQUE (draft_id, photo_id)
);
CREATE INDEX draft_items_photo ON draft_items(photo_id);

-- Motifs: clusters of keepers that look alike (recurring scenes). The id and the photographer's
-- name survive a re-clustering where the motif persists (matched by overlap of members).
CREATE TABLE motifs (
    id         INTEGER PRIMARY KEY,
    name       TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- A motif's keepers; medoid 1..k marks its most typical photos (0: an ordinary member).
CREATE TABLE motif_members (
    motif_id INTEGER NOT NULL REFERENCES motifs(id) ON DELETE CASCADE,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    medoid   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (motif_id, photo_id)
);
CREATE INDEX motif_members_photo ON motif_members(photo_id);
