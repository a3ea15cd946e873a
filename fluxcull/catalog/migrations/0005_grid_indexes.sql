-- Indexes whose terms match the grid's ORDER BY clauses exactly (fluxcull.catalog.queries.SORTS:
-- "capture_time IS NULL, capture_time, id" and "keeper_score IS NULL, keeper_score DESC, id"),
-- behind the usual filters (role, status), so the first page of a 400,000-photo catalog is read
-- straight from an index instead of sorting every row.
CREATE INDEX photos_grid_time ON photos(role, status, capture_time IS NULL, capture_time, id);
CREATE INDEX photos_grid_score ON photos(role, status, keeper_score IS NULL, keeper_score DESC, id);
CREATE INDEX photos_all_time ON photos(status, capture_time IS NULL, capture_time, id);
CREATE INDEX photos_all_score ON photos(status, keeper_score IS NULL, keeper_score DESC, id);
CREATE INDEX photos_session_grid ON photos(session_id, status, capture_time IS NULL, capture_time, id);
-- `status` lists the error rows by path.
CREATE INDEX photos_status_path ON photos(status, path);

-- Running counts behind `fluxcull status` (counting 400,000 rows each time is too slow for a
-- status bar): one row per (role, status, decision, scored), kept exact by triggers.
CREATE TABLE photo_counts (
    role     TEXT NOT NULL,
    status   TEXT NOT NULL,
    decision TEXT NOT NULL,
    scored   INTEGER NOT NULL,
    n        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (role, status, decision, scored)
) WITHOUT ROWID;

INSERT INTO photo_counts (role, status, decision, scored, n)
SELECT role, status, decision, keeper_score IS NOT NULL, COUNT(*) FROM photos GROUP BY 1, 2, 3, 4;

CREATE TRIGGER photo_counts_insert AFTER INSERT ON photos
BEGIN
    INSERT INTO photo_counts (role, status, decision, scored, n)
    VALUES (NEW.role, NEW.status, NEW.decision, NEW.keeper_score IS NOT NULL, 1)
    ON CONFLICT (role, status, decision, scored) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER photo_counts_delete AFTER DELETE ON photos
BEGIN
    UPDATE photo_counts SET n = n - 1
    WHERE role = OLD.role AND status = OLD.status AND decision = OLD.decision
      AND scored = (OLD.keeper_score IS NOT NULL);
END;

CREATE TRIGGER photo_counts_update AFTER UPDATE OF role, status, decision, keeper_score ON photos
WHEN OLD.role IS NOT NEW.role OR OLD.status IS NOT NEW.status OR OLD.decision IS NOT NEW.decision
  OR (OLD.keeper_score IS NULL) IS NOT (NEW.keeper_score IS NULL)
BEGIN
    UPDATE photo_counts SET n = n - 1
    WHERE role = OLD.role AND status = OLD.status AND decision = OLD.decision
      AND scored = (OLD.keeper_score IS NOT NULL);
    INSERT INTO photo_counts (role, status, decision, scored, n)
    VALUES (NEW.role, NEW.status, NEW.decision, NEW.keeper_score IS NOT NULL, 1)
    ON CONFLICT (role, status, decision, scored) DO UPDATE SET n = n + 1;
END;
