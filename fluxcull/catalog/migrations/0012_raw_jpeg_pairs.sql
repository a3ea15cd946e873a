-- RAW+JPEG pairs (fluxcull.ingest.pairs): the RAW file of a pair (the secondary) points at its
-- JPEG or HEIF (the primary), which stands for the pair in the grid, the counts, matching and the
-- keeper model. NULL: not the secondary file of a pair.
ALTER TABLE photos ADD COLUMN pair_of INTEGER REFERENCES photos(id) ON DELETE SET NULL;
CREATE INDEX photos_pair_of ON photos(pair_of) WHERE pair_of IS NOT NULL;

-- The grid's indexes (0005) hold photo units only: every listing asks for `pair_of IS NULL`
-- (fluxcull.catalog.queries.PhotoQuery), so the first page is still read straight from an index.
DROP INDEX photos_grid_time;
DROP INDEX photos_grid_score;
DROP INDEX photos_all_time;
DROP INDEX photos_all_score;
DROP INDEX photos_session_grid;
CREATE INDEX photos_grid_time ON photos(role, status, capture_time IS NULL, capture_time, id) WHERE pair_of IS NULL;
CREATE INDEX photos_grid_score ON photos(role, status, keeper_score IS NULL, keeper_score DESC, id) WHERE pair_of IS NULL;
CREATE INDEX photos_all_time ON photos(status, capture_time IS NULL, capture_time, id) WHERE pair_of IS NULL;
CREATE INDEX photos_all_score ON photos(status, keeper_score IS NULL, keeper_score DESC, id) WHERE pair_of IS NULL;
CREATE INDEX photos_session_grid ON photos(session_id, status, capture_time IS NULL, capture_time, id) WHERE pair_of IS NULL;

-- The running counts (0005) split by `secondary` (1: the RAW file of a pair), so that `status`
-- counts a pair once and can still say how many files it holds.
DROP TRIGGER photo_counts_insert;
DROP TRIGGER photo_counts_delete;
DROP TRIGGER photo_counts_update;
DROP TABLE photo_counts;
CREATE TABLE photo_counts (
    role      TEXT NOT NULL,
    status    TEXT NOT NULL,
    decision  TEXT NOT NULL,
    scored    INTEGER NOT NULL,
    secondary INTEGER NOT NULL,
    n         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (role, status, decision, scored, secondary)
) WITHOUT ROWID;

INSERT INTO photo_counts (role, status, decision, scored, secondary, n)
SELECT role, status, decision, keeper_score IS NOT NULL, pair_of IS NOT NULL, COUNT(*) FROM photos GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER photo_counts_insert AFTER INSERT ON photos
BEGIN
    INSERT INTO photo_counts (role, status, decision, scored, secondary, n)
    VALUES (NEW.role, NEW.status, NEW.decision, NEW.keeper_score IS NOT NULL, NEW.pair_of IS NOT NULL, 1)
    ON CONFLICT (role, status, decision, scored, secondary) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER photo_counts_delete AFTER DELETE ON photos
BEGIN
    UPDATE photo_counts SET n = n - 1
    WHERE role = OLD.role AND status = OLD.status AND decision = OLD.decision
      AND scored = (OLD.keeper_score IS NOT NULL) AND secondary = (OLD.pair_of IS NOT NULL);
END;

CREATE TRIGGER photo_counts_update AFTER UPDATE OF role, status, decision, keeper_score, pair_of ON photos
WHEN OLD.role IS NOT NEW.role OR OLD.status IS NOT NEW.status OR OLD.decision IS NOT NEW.decision
  OR (OLD.keeper_score IS NULL) IS NOT (NEW.keeper_score IS NULL)
  OR (OLD.pair_of IS NULL) IS NOT (NEW.pair_of IS NULL)
BEGIN
    UPDATE photo_counts SET n = n - 1
    WHERE role = OLD.role AND status = OLD.status AND decision = OLD.decision
      AND scored = (OLD.keeper_score IS NOT NULL) AND secondary = (OLD.pair_of IS NOT NULL);
    INSERT INTO photo_counts (role, status, decision, scored, secondary, n)
    VALUES (NEW.role, NEW.status, NEW.decision, NEW.keeper_score IS NOT NULL, NEW.pair_of IS NOT NULL, 1)
    ON CONFLICT (role, status, decision, scored, secondary) DO UPDATE SET n = n + 1;
END;
