-- The score by rules 2-5 (confirmed keeper, unreadable, technical failure, the keeper model) kept
-- beside keeper_score, on which a keep / reject decision imposes 1.0 / 0.0 (rule 1) the moment it
-- is made: a clear or an undo restores the photo's own score at once, without a re-score.
ALTER TABLE photos ADD COLUMN base_score REAL CHECK (base_score IS NULL OR (base_score >= 0.0 AND base_score <= 1.0));
-- Why rules 2-5 gave a definitive technical failure (0.0): 'blank', 'black' or 'blurred'; NULL otherwise.
ALTER TABLE photos ADD COLUMN failure TEXT;
UPDATE photos SET base_score = keeper_score WHERE decision = 'none';
UPDATE photos SET base_score = 1.0 WHERE decision != 'none' AND (role = 'keepers' OR id IN (
    SELECT original_id FROM keeper_links WHERE needs_review = 0 AND original_id IS NOT NULL));
UPDATE photos SET keeper_score = (CASE decision WHEN 'keep' THEN 1.0 ELSE 0.0 END)
WHERE decision != 'none' AND keeper_score IS NOT (CASE decision WHEN 'keep' THEN 1.0 ELSE 0.0 END);
