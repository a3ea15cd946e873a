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



def __getattr__(name: str):
    # read on first use: the distribution metadata costs ~50 ms of imports the window's start can skip
    if name == "__version__":
        from fluxcull._version import installed_version

        return installed_version()
    raise AttributeError(f"module 'fluxcull' has no attribute {name!r}")
