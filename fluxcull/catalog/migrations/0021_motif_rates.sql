-- A motif's keeper rate as its clustering measured it (fluxcull.insights.motifs: the originals assigned
-- to the motif and the keepers among them), so the stored motifs show it without clustering again.
-- NULL: clustered before this migration (`fluxcull motifs` fills them).
ALTER TABLE motifs ADD COLUMN assigned INTEGER;
ALTER TABLE motifs ADD COLUMN assigned_keepers INTEGER;
