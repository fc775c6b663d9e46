"""The pretrained files the templates start from, known without importing torch (the
window lists them at start-up): torchvision weights enum member -> (file name, size
in MB as torchvision's ``meta["_file_size"]`` gives it). tests/training/test_weights.py
checks every entry against torchvision itself, so a torchvision upgrade that renames
a file fails a test instead of a user's first run.
"""
from __future__ import annotations

# torchvision serves every file below from here; a mirror keeps the file names.
DEFAULT_BASE_URL = "https://download.pytorch.org/models/"

FILES: dict[str, tuple[str, float]] = {
    "FasterRCNN_MobileNet_V3_Large_FPN_Weights.COCO_V1":
        ("fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7.pth", 74.239),
    "FasterRCNN_MobileNet_V3_Large_320_FPN_Weights.COCO_V1":
        ("fasterrcnn_mobilenet_v3_large_320_fpn-907ea3f9.pth", 74.239),
    "MobileNet_V3_Large_Weights.IMAGENET1K_V1": ("mobilenet_v3_large-8738ca79.pth", 21.114),
    "FasterRCNN_ResNet50_FPN_V2_Weights.COCO_V1":
        ("fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth", 167.104),
    "ResNet50_Weights.IMAGENET1K_V1": ("resnet50-0676ba61.pth", 97.781),
    "RetinaNet_ResNet50_FPN_V2_Weights.COCO_V1":
        ("retinanet_resnet50_fpn_v2_coco-5905b1c5.pth", 146.037),
    "FCOS_ResNet50_FPN_Weights.COCO_V1": ("fcos_resnet50_fpn_coco-99b0c9b7.pth", 123.608),
    "SSDLite320_MobileNet_V3_Large_Weights.COCO_V1":
        ("ssdlite320_mobilenet_v3_large_coco-a79551df.pth", 13.418),
    "MobileNet_V2_Weights.IMAGENET1K_V1": ("mobilenet_v2-b0353104.pth", 13.555),
    "ResNet18_Weights.IMAGENET1K_V1": ("resnet18-f37072fd.pth", 44.661),
    "ResNet50_Weights.IMAGENET1K_V2": ("resnet50-11ad3fa6.pth", 97.79),
    "EfficientNet_B0_Weights.IMAGENET1K_V1": ("efficientnet_b0_rwightman-7f5810bc.pth", 20.451),
    "ConvNeXt_Tiny_Weights.IMAGENET1K_V1": ("convnext_tiny-983f1562.pth", 109.119),
    "ViT_B_16_Weights.IMAGENET1K_V1": ("vit_b_16-c867db91.pth", 330.285),
}

# What each start of a template means, in the order a missing file falls back.
START_LABELS = {"coco": "COCO detector", "imagenet": "ImageNet backbone", "none": "random"}
FALLBACK = ("coco", "imagenet", "none")


def file_of(ref: str) -> str:
    return FILES[ref][0]


def size_mb(ref: str) -> float:
    return FILES[ref][1]


def enum_member(ref: str):
    """The torchvision weights enum member named ``ref`` (imports torchvision)."""
    import torchvision.models as tvm
    import torchvision.models.detection as tvd

    enum, member = ref.split(".")
    module = tvd if hasattr(tvd, enum) else tvm
    return getattr(getattr(module, enum), member)
