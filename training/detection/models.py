"""Detector templates. Importing this module registers them and imports no torch;
each builder imports torch/torchvision in its body.

Every builder has the signature ``builder(*, num_classes, hparams) -> nn.Module``
where ``num_classes`` counts the background (class 0) and the model follows
torchvision's detection interface (list of images in, losses or detections out).
"""
from __future__ import annotations

from typing import Any

from training.hparams import DetectorHParams, derive
from training.templates import register_template

_MOBILE_LAYERS = {"range": (0, 6)}

FasterRCNNMobileHParams = derive(
    DetectorHParams, "FasterRCNNMobileHParams", {"trainable_backbone_layers": _MOBILE_LAYERS},
    min_size=512, max_size=853, lr=0.01, trainable_backbone_layers=3)
FasterRCNNMobile320HParams = derive(
    DetectorHParams, "FasterRCNNMobile320HParams", {"trainable_backbone_layers": _MOBILE_LAYERS},
    min_size=320, max_size=640, lr=0.01, trainable_backbone_layers=3)
FasterRCNNResNetHParams = derive(
    DetectorHParams, "FasterRCNNResNetHParams", min_size=800, max_size=1333, lr=0.01)
RetinaNetHParams = derive(
    DetectorHParams, "RetinaNetHParams", min_size=800, max_size=1333, lr=0.005)
FCOSHParams = derive(DetectorHParams, "FCOSHParams", min_size=800, max_size=1333, lr=0.005)
SSDLiteHParams = derive(
    DetectorHParams, "SSDLiteHParams",
    {"trainable_backbone_layers": _MOBILE_LAYERS,
     "min_size": {"help": "Square input size (pixels); max_size is not used."}},
    min_size=320, max_size=320, epochs=60, batch_size=16, lr=0.02, weight_decay=4e-5,
    trainable_backbone_layers=6, scale_jitter=0.3, photometric=True)
FasterRCNNMobileNetV2HParams = derive(
    DetectorHParams, "FasterRCNNMobileNetV2HParams",
    {"trainable_backbone_layers": _MOBILE_LAYERS,
     "pretrained": {"choices": ("none", "imagenet"),
                    "help": "Starting weights: none (random), imagenet (backbone, "
                            "available offline) or a .pt/.pth file."}},
    pretrained="imagenet", min_size=416, max_size=640, lr=0.01, trainable_backbone_layers=4)


def _tv_detector(fn_name: str, coco_weights: str, backbone_weights: str, head: str,
                 num_classes: int, hp: Any, max_layers: int, sized: bool = True):
    """A torchvision detector with a start chosen by ``hp.pretrained``; with COCO
    weights the class-dependent head is replaced for ``num_classes``."""
    import torchvision.models as tvm
    import torchvision.models.detection as D

    from training.weights import cached_or_none, load_weights_file

    builder = getattr(D, fn_name)
    kwargs: dict[str, Any] = {"min_size": hp.min_size, "max_size": hp.max_size} if sized else {}
    layers = min(hp.trainable_backbone_layers, max_layers)
    # A start whose weights are not on this machine falls back one step (COCO → ImageNet
    # backbone → random), with a notice in the run's log.
    start = hp.pretrained
    if start == "coco":
        weights = cached_or_none(getattr(D, coco_weights).COCO_V1)
        if weights is not None:
            model = builder(weights=weights, weights_backbone=None,
                            trainable_backbone_layers=layers, **kwargs)
            _replace_head(model, head, num_classes)
        else:
            start = "imagenet"
    if start == "imagenet":
        backbone_enum, member = backbone_weights.split(".")
        weights = cached_or_none(getattr(getattr(tvm, backbone_enum), member))
        model = builder(weights=None, weights_backbone=weights, num_classes=num_classes,
                        trainable_backbone_layers=layers if weights is not None else None, **kwargs)
    elif start != "coco":
        model = builder(weights=None, weights_backbone=None, num_classes=num_classes, **kwargs)
        if hp.pretrained != "none":
            load_weights_file(model, hp.pretrained)
    if not sized:  # SSD's size is fixed by its builder; its anchors are relative
        s = hp.min_size
        model.transform.min_size, model.transform.max_size = (s,), s
        model.transform.fixed_size = (s, s)
    return model


def _replace_head(model: Any, head: str, num_classes: int) -> None:
    from functools import partial

    from torch import nn
    from torchvision.models.detection import _utils as det_utils
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
    from torchvision.models.detection.fcos import FCOSClassificationHead
    from torchvision.models.detection.retinanet import RetinaNetClassificationHead
    from torchvision.models.detection.ssdlite import SSDLiteClassificationHead

    if head == "fasterrcnn":
        in_features = model.roi_heads.box_predictor.cls_score.in_features
        model.roi_heads.box_predictor = FastRCNNPredictor(in_features, num_classes)
    elif head == "retinanet":
        old = model.head.classification_head
        model.head.classification_head = RetinaNetClassificationHead(
            model.backbone.out_channels, old.num_anchors, num_classes,
            norm_layer=partial(nn.GroupNorm, 32))
    elif head == "fcos":
        old = model.head.classification_head
        model.head.classification_head = FCOSClassificationHead(
            model.backbone.out_channels, old.num_anchors, num_classes)
    elif head == "ssdlite":
        channels = det_utils.retrieve_out_channels(model.backbone, (320, 320))
        model.head.classification_head = SSDLiteClassificationHead(
            channels, model.anchor_generator.num_anchors_per_location(), num_classes,
            partial(nn.BatchNorm2d, eps=0.001, momentum=0.03))
    else:
        raise ValueError(f"no head replacement for {head!r}")


@register_template("fasterrcnn_mobilenet_v3_large_fpn", task="detector",
                   description="Faster R-CNN, MobileNetV3-Large FPN backbone.",
                   hint="fast; good on CPU at moderate image sizes",
                   hparams=FasterRCNNMobileHParams)
def fasterrcnn_mobilenet_v3_large_fpn(*, num_classes: int, hparams: Any):
    return _tv_detector("fasterrcnn_mobilenet_v3_large_fpn",
                        "FasterRCNN_MobileNet_V3_Large_FPN_Weights",
                        "MobileNet_V3_Large_Weights.IMAGENET1K_V1", "fasterrcnn",
                        num_classes, hparams, 6)


@register_template("fasterrcnn_mobilenet_v3_large_320_fpn", task="detector",
                   description="Faster R-CNN, MobileNetV3-Large FPN, low resolution.",
                   hint="fastest Faster R-CNN; lower accuracy on small objects",
                   hparams=FasterRCNNMobile320HParams)
def fasterrcnn_mobilenet_v3_large_320_fpn(*, num_classes: int, hparams: Any):
    return _tv_detector("fasterrcnn_mobilenet_v3_large_320_fpn",
                        "FasterRCNN_MobileNet_V3_Large_320_FPN_Weights",
                        "MobileNet_V3_Large_Weights.IMAGENET1K_V1", "fasterrcnn",
                        num_classes, hparams, 6)


@register_template("fasterrcnn_resnet50_fpn_v2", task="detector",
                   description="Faster R-CNN v2, ResNet-50 FPN backbone.",
                   hint="most accurate; slow, GPU recommended",
                   hparams=FasterRCNNResNetHParams)
def fasterrcnn_resnet50_fpn_v2(*, num_classes: int, hparams: Any):
    return _tv_detector("fasterrcnn_resnet50_fpn_v2", "FasterRCNN_ResNet50_FPN_V2_Weights",
                        "ResNet50_Weights.IMAGENET1K_V1", "fasterrcnn", num_classes, hparams, 5)


@register_template("retinanet_resnet50_fpn_v2", task="detector",
                   description="RetinaNet v2 (one stage), ResNet-50 FPN backbone.",
                   hint="accurate; slow, GPU recommended",
                   hparams=RetinaNetHParams)
def retinanet_resnet50_fpn_v2(*, num_classes: int, hparams: Any):
    return _tv_detector("retinanet_resnet50_fpn_v2", "RetinaNet_ResNet50_FPN_V2_Weights",
                        "ResNet50_Weights.IMAGENET1K_V1", "retinanet", num_classes, hparams, 5)


@register_template("fcos_resnet50_fpn", task="detector",
                   description="FCOS (anchor-free, one stage), ResNet-50 FPN backbone.",
                   hint="accurate; slow, GPU recommended",
                   hparams=FCOSHParams)
def fcos_resnet50_fpn(*, num_classes: int, hparams: Any):
    return _tv_detector("fcos_resnet50_fpn", "FCOS_ResNet50_FPN_Weights",
                        "ResNet50_Weights.IMAGENET1K_V1", "fcos", num_classes, hparams, 5)


@register_template("ssdlite320_mobilenet_v3_large", task="detector",
                   description="SSDlite, MobileNetV3-Large, fixed square input.",
                   hint="fastest inference; needs many epochs, weaker on small objects",
                   hparams=SSDLiteHParams, input_shape="square")
def ssdlite320_mobilenet_v3_large(*, num_classes: int, hparams: Any):
    return _tv_detector("ssdlite320_mobilenet_v3_large",
                        "SSDLite320_MobileNet_V3_Large_Weights",
                        "MobileNet_V3_Large_Weights.IMAGENET1K_V1", "ssdlite",
                        num_classes, hparams, 6, sized=False)


# MobileNetV2 ``features`` indices where a new stride (a "stage") begins.
_MNV2_STAGES = (0, 2, 4, 7, 14, 18)


@register_template("fasterrcnn_mobilenet_v2", task="detector",
                   description="Faster R-CNN on a MobileNetV2 backbone (single feature map).",
                   hint="CPU-friendly; ImageNet start works offline",
                   hparams=FasterRCNNMobileNetV2HParams)
def fasterrcnn_mobilenet_v2(*, num_classes: int, hparams: Any):
    from torch import nn
    from torchvision.models import MobileNet_V2_Weights, mobilenet_v2
    from torchvision.models.detection import FasterRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.ops import FrozenBatchNorm2d, MultiScaleRoIAlign

    from training.weights import cached_or_none, load_weights_file

    weights = (cached_or_none(MobileNet_V2_Weights.IMAGENET1K_V1)
               if hparams.pretrained == "imagenet" else None)
    pretrained = weights is not None
    # Frozen BN with a pretrained start: detection batches are too small for BN statistics.
    features = mobilenet_v2(weights=weights,
                            norm_layer=FrozenBatchNorm2d if pretrained else nn.BatchNorm2d).features
    if pretrained:
        k = hparams.trainable_backbone_layers
        first = len(features) if k == 0 else _MNV2_STAGES[len(_MNV2_STAGES) - k]
        for i, block in enumerate(features):
            block.requires_grad_(i >= first)
    # A 1x1 neck to 128 channels keeps the box head (7*7*C inputs) small on CPU:
    # with 1280 channels its first layer alone would be 64M weights.
    backbone = nn.Sequential(features, nn.Conv2d(1280, 128, 1), nn.ReLU(inplace=True))
    backbone.out_channels = 128
    anchors = AnchorGenerator(sizes=((32, 64, 128, 256, 512),), aspect_ratios=((0.5, 1.0, 2.0),))
    model = FasterRCNN(
        backbone, num_classes=num_classes, rpn_anchor_generator=anchors,
        box_roi_pool=MultiScaleRoIAlign(["0"], output_size=7, sampling_ratio=2),
        min_size=hparams.min_size, max_size=hparams.max_size,
        rpn_pre_nms_top_n_train=1000, rpn_post_nms_top_n_train=1000,
        rpn_pre_nms_top_n_test=500, rpn_post_nms_top_n_test=300,
        box_batch_size_per_image=128)
    if hparams.pretrained not in ("none", "imagenet"):
        load_weights_file(model, hparams.pretrained)
    return model
