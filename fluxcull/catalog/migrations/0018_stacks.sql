-- Stacks: the bursts of fluxcull.keeper.bursts (frames of one scene seconds apart that look alike),
-- stored for the grid, which shows a stack collapsed into its top-scored frame, and for
-- `fluxcull stacks` and `photos --json`. Written by fluxcull.catalog.stacks_store only.
-- stack_id: the burst id (the photo id of its first frame); stack_size: its frames (1: a photo
-- alone); stack_position: 1.. in capture order. NULL: the photo has no stack (not embedded yet, a
-- keeper-archive file, the RAW file of a RAW+JPEG pair, a file that could not be read).
ALTER TABLE photos ADD COLUMN stack_id INTEGER;
ALTER TABLE photos ADD COLUMN stack_size INTEGER;
ALTER TABLE photos ADD COLUMN stack_position INTEGER;
-- The frames of real stacks (two or more), best first (fluxcull.catalog.queries.STACK_TOP_ORDER),
-- with the columns the grid's filters test: a collapsed grid finds each stack's top frame, and
-- counts its stacks, from this index alone.
CREATE INDEX photos_stacked ON photos(stack_id, keeper_score DESC, id, status, decision, role, session_id, pair_of)
    WHERE stack_size > 1;
-- What each session group's stacks were computed from (a hash of its photos, capture times,
-- embeddings and the burst rule): a group whose signature is unchanged is not computed again.
CREATE TABLE stack_groups (
    group_id  INTEGER PRIMARY KEY,
    signature INTEGER NOT NULL
);
