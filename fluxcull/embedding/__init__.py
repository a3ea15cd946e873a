"""The embedding side: every photo's backbone embedding and its technical and metadata features.

Data flow: photos (catalog) -> decode (fluxcull.media) -> `embed` job: one decode pass gives the
technical features (`pixel_features`) and the square network input (`preprocess`) -> backbone
(`backbones`, run by torch in `inference` or ONNX Runtime in `onnx_backend`, or as the int8 model
`quantize` builds, when `precision` chooses the backbone's int8 variant (from the CPU's flags:
`cpu`); both build the torch module with `torch_model`, EfficientNet-Lite in `efficientnet_lite`)
-> `EmbeddingStore` (`store`: float16 memmap per backbone + its catalog index; `current_store` is
the active backbone's) and `photo_features` (`features`: the public entry, names, schema and
storage; the stored technical part and orientation signature joined to the metadata part, computed
from the catalog by `metadata_features`).

Readers: the keeper model (fluxcull.keeper) and matching (fluxcull.matching) read embeddings and
features from here; this package never imports the keeper model (import-linter contract
`embedding-not-keeper-model`). torch is imported only in the modules that run a backbone; `store`
and `features` use numpy alone, so matching and the GUI can read embeddings cheaply.
"""
