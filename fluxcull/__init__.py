"""fluxcull: a photo-culling application that learns one photographer's taste.

Data flow:
    folders (ORIGINALS, KEEPERS, INBOX)
      -> ingest (fluxcull.ingest: scan, hash, EXIF, thumbnail)   -> catalog (fluxcull.catalog, SQLite)
      -> embed  (fluxcull.embedding: backbone embeddings + features) -> library caches (memmap, features)
      -> match  (fluxcull.matching: keepers linked to originals)  -> keeper_links
      -> train / score (fluxcull.keeper: the keeper model)        -> photos.keeper_score
      -> cull   (fluxcull.ui: grid, loupe, compare)               -> decisions + decision_events
                                                                   -> back into training

Only fluxcull.ui imports Qt; only fluxcull.embedding and fluxcull.keeper import torch.
"""

from fluxcull._version import installed_version

__version__ = installed_version()
