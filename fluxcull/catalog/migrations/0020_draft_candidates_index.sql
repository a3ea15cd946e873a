-- Issue-draft candidates (fluxcull.catalog.insight_reads.draft_candidates: ok originals and inbox
-- photos scoring at least a threshold, not rejected) from this index alone: the 15,000 strong
-- photos of a 400,000-photo library are one short range of it instead of 15,000 table rows
-- scattered over the whole table (seconds when the catalog is not in the page cache). It replaces
-- photos_role_score, whose columns it starts with, so a score write updates as many indexes as before.
CREATE INDEX photos_role_score_cover ON photos(role, keeper_score DESC, id, status, decision, session_id, capture_time);
DROP INDEX photos_role_score;
