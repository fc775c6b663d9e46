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


# Pretrained starts of each torchvision detector (training.weights_catalog).
_MNV3_IMAGENET = "MobileNet_V3_Large_Weights.IMAGENET1K_V1"
_R50_IMAGENET = "ResNet50_Weights.IMAGENET1K_V1"
STARTS = {
    "fasterrcnn_mobilenet_v3_large_fpn": {
        "coco": "FasterRCNN_MobileNet_V3_Large_FPN_Weights.COCO_V1", "imagenet": _MNV3_IMAGENET},
    "fasterrcnn_mobilenet_v3_large_320_fpn": {
        "coco": "FasterRCNN_MobileNet_V3_Large_320_FPN_Weights.COCO_V1",
        "imagenet": _MNV3_IMAGENET},
    "fasterrcnn_resnet50_fpn_v2": {
        "coco": "FasterRCNN_ResNet50_FPN_V2_Weights.COCO_V1", "imagenet": _R50_IMAGENET},
    "retinanet_resnet50_fpn_v2": {
        "coco": "RetinaNet_ResNet50_FPN_V2_Weights.COCO_V1", "imagenet": _R50_IMAGENET},
    "fcos_resnet50_fpn": {"coco": "FCOS_ResNet50_FPN_Weights.COCO_V1", "imagenet": _R50_IMAGENET},
    "ssdlite320_mobilenet_v3_large": {
        "coco": "SSDLite320_MobileNet_V3_Large_Weights.COCO_V1", "imagenet": _MNV3_IMAGENET},
}


def _tv_detector(fn_name: str, head: str, num_classes: int, hp: Any, max_layers: int,
                 sized: bool = True):
    """A torchvision detector with a start chosen by ``hp.pretrained``; with COCO
    weights the class-dependent head is replaced for ``num_classes``. A start whose
    weights this machine lacks (and cannot fetch) falls back one step (COCO ->
    ImageNet backbone -> random), with a notice in the run's log."""
    import torchvision.models.detection as D

    from training.weights import load_weights_file, obtain_start

    builder = getattr(D, fn_name)
    kwargs: dict[str, Any] = {"min_size": hp.min_size, "max_size": hp.max_size} if sized else {}
    layers = min(hp.trainable_backbone_layers, max_layers)
    is_file = hp.pretrained not in ("none", "imagenet", "coco")
    start, weights = (("none", None) if is_file or hp.pretrained == "none"
                      else obtain_start(STARTS[fn_name], hp.pretrained))
    if start == "coco":
        model = builder(weights=weights, weights_backbone=None,
                        trainable_backbone_layers=layers, **kwargs)
        _replace_head(model, head, num_classes)
    elif start == "imagenet":
        model = builder(weights=None, weights_backbone=weights, num_classes=num_classes,
                        trainable_backbone_layers=layers, **kwargs)
    else:
        model = builder(weights=None, weights_backbone=None, num_classes=num_classes, **kwargs)
        if is_file:
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
                   hparams=FasterRCNNMobileHParams,
                   starts=STARTS["fasterrcnn_mobilenet_v3_large_fpn"])
def fasterrcnn_mobilenet_v3_large_fpn(*, num_classes: int, hparams: Any):
    return _tv_detector("fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn", num_classes,
                        hparams, 6)


@register_template("fasterrcnn_mobilenet_v3_large_320_fpn", task="detector",
                   description="Faster R-CNN, MobileNetV3-Large FPN, low resolution.",
                   hint="fastest Faster R-CNN; lower accuracy on small objects",
                   hparams=FasterRCNNMobile320HParams,
                   starts=STARTS["fasterrcnn_mobilenet_v3_large_320_fpn"])
def fasterrcnn_mobilenet_v3_large_320_fpn(*, num_classes: int, hparams: Any):
    return _tv_detector("fasterrcnn_mobilenet_v3_large_320_fpn", "fasterrcnn", num_classes,
                        hparams, 6)


@register_template("fasterrcnn_resnet50_fpn_v2", task="detector",
                   description="Faster R-CNN v2, ResNet-50 FPN backbone.",
                   hint="most accurate; slow, GPU recommended",
                   hparams=FasterRCNNResNetHParams,
                   starts=STARTS["fasterrcnn_resnet50_fpn_v2"])
def fasterrcnn_resnet50_fpn_v2(*, num_classes: int, hparams: Any):
    return _tv_detector("fasterrcnn_resnet50_fpn_v2", "fasterrcnn", num_classes, hparams, 5)


@register_template("retinanet_resnet50_fpn_v2", task="detector",
                   description="RetinaNet v2 (one stage), ResNet-50 FPN backbone.",
                   hint="accurate; slow, GPU recommended",
                   hparams=RetinaNetHParams,
                   starts=STARTS["retinanet_resnet50_fpn_v2"])
def retinanet_resnet50_fpn_v2(*, num_classes: int, hparams: Any):
    return _tv_detector("retinanet_resnet50_fpn_v2", "retinanet", num_classes, hparams, 5)


@register_template("fcos_resnet50_fpn", task="detector",
                   description="FCOS (anchor-free, one stage), ResNet-50 FPN backbone.",
                   hint="accurate; slow, GPU recommended",
                   hparams=FCOSHParams,
                   starts=STARTS["fcos_resnet50_fpn"])
def fcos_resnet50_fpn(*, num_classes: int, hparams: Any):
    return _tv_detector("fcos_resnet50_fpn", "fcos", num_classes, hparams, 5)


@register_template("ssdlite320_mobilenet_v3_large", task="detector",
                   description="SSDlite, MobileNetV3-Large, fixed square input.",
                   hint="fastest inference; needs many epochs, weaker on small objects",
                   hparams=SSDLiteHParams, input_shape="square",
                   starts=STARTS["ssdlite320_mobilenet_v3_large"])
def ssdlite320_mobilenet_v3_large(*, num_classes: int, hparams: Any):
    return _tv_detector("ssdlite320_mobilenet_v3_large", "ssdlite", num_classes, hparams, 6,
                        sized=False)


# The MobileNetV2 detector lives in its own module; importing it here keeps the
# templates in this order.
from training.detection import mobilenet_v2  # noqa: E402,F401
