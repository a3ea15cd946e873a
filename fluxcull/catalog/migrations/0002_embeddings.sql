-- Embeddings live in a float16 memory-mapped matrix per backbone (library/embeddings/<id>/);
-- embedding_rows maps photo -> row. A row counts as done only once its index row is committed,
-- which happens after the vector is written and flushed.
CREATE TABLE backbones (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    dim        INTEGER NOT NULL,
    input      TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE embedding_rows (
    backbone_id   TEXT NOT NULL REFERENCES backbones(id),
    photo_id      INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    row           INTEGER NOT NULL,
    source_sha256 TEXT,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (backbone_id, photo_id)
);
CREATE UNIQUE INDEX embedding_rows_row ON embedding_rows(backbone_id, row);

-- Technical and metadata features: a float32 vector per photo (NaN = missing), whose names and
-- order are given by the schema id (see fluxcull.embedding.features).
CREATE TABLE photo_features (
    photo_id    INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    schema      TEXT NOT NULL,
    vector      BLOB NOT NULL,
    computed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
