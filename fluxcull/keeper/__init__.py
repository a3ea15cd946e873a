"""The keeper model: "would this photographer keep it?", learnt from the keeper links and the
decision log, and the keeper score it puts on every photo.

Data flow: labels (`dataset`: keeper links, decisions) + embeddings and features read from
fluxcull.embedding -> model inputs (`inputs`: the embedding projected, cached by `projection_cache`;
the features; context inputs from `context`, which compares a photo with its session and its burst
from `bursts`, with medians and ranks within a group from `groups` and the rotation against the
burst from `rotation`) -> candidate methods evaluated on held-out photos (`evaluate`, `metrics`;
`eval_report` for `fluxcull eval`): gradient-boosted trees (`gbt`), the pairwise ranker (`pairs`,
`ranker`) -> one chosen (`choice`), calibrated (`calibrate`), saved (`models_store`) by `train` ->
`score` writes photos.keeper_score through the catalog -> `explain`, `explain_words`,
`quality_words` say a score and the model's quality in words.

Scoring runs in numpy on saved arrays; torch is imported only where a ranker is fitted. Only
workflows and the command line import this package; the embedding side and matching never do.
"""
