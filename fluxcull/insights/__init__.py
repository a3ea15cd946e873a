"""What the keeper model enables: issue drafts, rediscovery, session analytics, motifs.

Data flow: keeper scores, decisions and keeper links read from the catalog (`catalog/insight_reads.py`,
`catalog/drafts.py`, `catalog/motif_store.py`) + embeddings read through
fluxcull.embedding.store.current_store and fluxcull.keeper.dataset.read_embeddings, bursts from
fluxcull.keeper.bursts.find_bursts (the one definition) ->
- `draft`: N strong, diverse photos in sequence, stored as a proposal; `draft_export`: a proposal
  or an approved draft as a contact-sheet PDF (matplotlib), a CSV, or its photos in a folder;
- `rediscover`: probable keepers among the originals nobody ever decided on, by session;
- `analytics`: keeper counts, density (with Wilson intervals) and mean score per session, place,
  hour, weekday, month, season, year, focal length, camera; `places`: sessions' places from their
  GPS centroids (offline reverse geocoding); `plots`: PNG charts (matplotlib, Agg), motif
  frequency over time among them;
- `drift`: taste drift, what the recent decisions prefer (per feature: AUC and standardised mean
  difference of keepers against the others; per motif: share of keepers) against the archive's;
- `motifs`: keepers clustered by look (PCA + HDBSCAN, `density`: scikit-learn's HDBSCAN with its
  core distances from BLAS blocks, same labels), named by the photographer, names kept across
  re-clustering.

The model proposes, the photographer approves: nothing here decides a photo, and a draft is only a
proposal until `fluxcull draft-approve`. No Qt; the command line calls this package directly, the
GUI through fluxcull.workflows; the catalog never imports it.
"""
