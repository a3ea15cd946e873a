"""A backbone's torch module as the runtimes use it: built (downloaded weights where the backbone
has them) and, for the packaged architectures, with batch-norm folded into the convolutions.

Shared by the torch runner (fluxcull.embedding.inference) and the ONNX export (fluxcull.embedding.onnx_backend,
which exports the unfolded module); neither imports the other for it.
"""

from __future__ import annotations

from fluxcull.embedding.backbones import Backbone


def build_torch_model(backbone: Backbone, *, allow_download: bool | None = None, fuse: bool = True):
    """The backbone's torch module (batch-norm folded where the architecture allows)."""
    model = backbone.build(allow_download=allow_download)
    if fuse and backbone.source == "package":
        from fluxcull.embedding.efficientnet_lite import fuse_batchnorm

        model.model = fuse_batchnorm(model.model)
    return model
