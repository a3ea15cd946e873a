-- Per-keeper matching state, one row per keeper-archive photo that matching has looked at.
-- status: linked (an automatic link, needs_review = 0), review (a link proposed for a person to
-- confirm, or several originals equally plausible), unmatched (no original found), manual (a
-- person's link or "no original" decision; automatic runs leave it alone).
-- keeper_sha256 is the keeper's hash when it was matched and corpus_sig a fingerprint of the
-- originals and embeddings then, so an incremental run redoes only new or changed keepers, and
-- retries keepers left in review or unmatched once the corpus has changed.
-- candidates is a JSON list of the best originals considered, with their evidence.
CREATE TABLE keeper_match_state (
    keeper_id     INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    status        TEXT NOT NULL CHECK (status IN ('linked', 'review', 'unmatched', 'manual')),
    keeper_sha256 TEXT,
    corpus_sig    TEXT,
    reason        TEXT,
    candidates    TEXT,
    matched_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX keeper_match_state_status ON keeper_match_state(status, keeper_id);
