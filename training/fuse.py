"""Batch norm folded into the convolution before it, for inference.

In eval mode a BatchNorm (or torchvision's FrozenBatchNorm2d) is a fixed per-channel
scale and shift; folded into the preceding convolution's weights it costs nothing
(it took 14-18% of a MobileNet detector's CPU inference here). torchvision's
backbones and SSDlite's heads keep the pairs side by side in ``nn.Sequential``
(Conv2dNormActivation, InvertedResidual), which is where they are found.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_weights
from torchvision.ops import FrozenBatchNorm2d

_NORMS = (nn.BatchNorm2d, FrozenBatchNorm2d)


@torch.no_grad()
def fuse_conv_bn(model: nn.Module) -> int:
    """Fold every Conv2d -> BatchNorm pair of a model in eval mode, in place; returns
    how many. Do not train the model afterwards."""
    if model.training:
        raise ValueError("fuse_conv_bn needs a model in eval mode")
    fused = 0
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        for i in range(len(seq) - 1):
            conv, norm = seq[i], seq[i + 1]
            if (type(conv) is nn.Conv2d and isinstance(norm, _NORMS)
                    and norm.weight is not None and conv.out_channels == norm.weight.numel()):
                seq[i] = _fused(conv, norm)
                seq[i + 1] = nn.Identity()
                fused += 1
    return fused


def _fused(conv: nn.Conv2d, norm: nn.Module) -> nn.Conv2d:
    out = copy.deepcopy(conv)
    eps = norm.eps
    w, b = fuse_conv_bn_weights(conv.weight, conv.bias, norm.running_mean, norm.running_var,
                                eps, norm.weight, norm.bias)
    out.weight, out.bias = w, b
    return out


def fused_copy(model: nn.Module) -> nn.Module:
    """An eval-mode copy with conv and batch norm folded (for evaluating a model that
    goes on training)."""
    clone = copy.deepcopy(model).eval()
    fuse_conv_bn(clone)
    return clone
