-- Each stored embedding row records the CRC-32 of its float16 bytes, so a deleted, truncated or
-- overwritten vectors file is detected (NULL: stored before checksums; checked by size only).
ALTER TABLE embedding_rows ADD COLUMN checksum INTEGER;
