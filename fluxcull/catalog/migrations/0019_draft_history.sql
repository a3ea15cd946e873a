-- A draft's history (fluxcull.catalog.drafts): every change to a draft, in order. kind:
--   proposed   the model's proposal (detail: order)
--   reordered  the photographer moved photos (detail: order before, order after)
--   sequenced  a sequence suggestion applied (detail: mode, score, order before, order after)
--   removed    a photo taken out (detail: photo_id, position, order after)
--   swapped    a photo replaced by one of its alternatives (detail: photo_id, by, position)
--   approved   the photographer approved it
--   reopened   an approved draft made a proposal again, to be edited (detail: approved_at it had)
-- An order is the draft's photo ids, position 1 first.
CREATE TABLE draft_events (
    id       INTEGER PRIMARY KEY,
    draft_id INTEGER NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('proposed', 'reordered', 'sequenced', 'removed', 'swapped',
                                           'approved', 'reopened')),
    detail   TEXT NOT NULL DEFAULT '{}',
    at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX draft_events_draft ON draft_events(draft_id, id);

-- the drafts stored before this history began: their proposal (with today's order) and approval
INSERT INTO draft_events(draft_id, kind, detail, at)
SELECT d.id, 'proposed',
       json_object('order', json((SELECT json_group_array(photo_id)
                                  FROM (SELECT photo_id FROM draft_items WHERE draft_id = d.id ORDER BY position)))),
       d.created_at
FROM drafts d ORDER BY d.id;
INSERT INTO draft_events(draft_id, kind, detail, at)
SELECT id, 'approved', '{}', approved_at FROM drafts WHERE status = 'approved' ORDER BY id;
