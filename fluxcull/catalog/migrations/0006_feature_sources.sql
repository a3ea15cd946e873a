-- Features, like embeddings, record the bytes they were computed from, so a changed file
-- (new SHA-256) gets its features computed again.
ALTER TABLE photo_features ADD COLUMN source_sha256 TEXT;
