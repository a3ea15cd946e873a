"""Machine learning: embeddings, features, the keeper model.

Data flow: photos (catalog) -> decode (fluxcull.media) -> backbone (torch / ONNX Runtime) ->
EmbeddingStore (float16 memmap + catalog index) and photo_features -> ranker training and scoring
-> photos.keeper_score.

torch is imported only inside this package, and only in the modules that run models; `store`
and `features` readers use numpy alone, so matching and the GUI can read embeddings cheaply.
"""
