"""Embedder templates (task "embedder"). Importing this module registers them and
imports no torch: the app lists them at start-up; ``models.build_embedder`` does the
torch work.

A template fixes the backbone and the defaults that suit it; every template shares
``EmbedderHParams``, so the form and ``--set key=value`` work the same for all.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from training.hparams import TIME_BUDGET_HELP, derive, hp
from training.templates import register_template


@dataclass(frozen=True)
class EmbedderHParams:
    """Hyperparameters shared by every embedder template."""

    source: str = hp("tags", "What the embedder learns from: image-level tags (one tag "
                     "per image) or box crops with their class.", choices=("tags", "boxes"))
    crop_padding: float = hp(0.1, "Boxes: context kept around a crop, as a fraction of "
                             "the box size on each side.", range=(0.0, 1.0))
    image_size: int = hp(224, "Square input side (pixels); images and crops are resized "
                         "to it.", range=(32, 1024))
    embedding_size: int = hp(128, "Length of the embedding vector (projection head "
                             "output).", range=(8, 4096))
    loss: str = hp("arcface", "Metric-learning loss: ArcFace, ProxyAnchor, "
                   "MultiSimilarity (with its miner) or supervised contrastive.",
                   choices=("arcface", "proxy_anchor", "multi_similarity", "supcon"))
    margin: float = hp(28.6, "Angular margin in degrees (ArcFace); ProxyAnchor uses "
                       "margin / 286 (0.1 at the default).", range=(0.0, 90.0))
    scale: float = hp(64.0, "Logit scale (ArcFace); ProxyAnchor alpha = scale / 2, "
                      "supervised contrastive temperature = 6.4 / scale.", range=(1.0, 256.0))
    epochs: int = hp(20, "Passes over the training examples.", range=(1, 1000))
    time_budget: float = hp(0.0, TIME_BUDGET_HELP, range=(0.0, 10080.0))
    batch_size: int = hp(32, "Examples per step on each device.", range=(2, 1024))
    samples_per_class: int = hp(4, "Examples of one class in a batch (m-per-class "
                                "sampling; a class with fewer is repeated).", range=(1, 256))
    lr: float = hp(3e-4, "Learning rate of the backbone (AdamW).", range=(1e-7, 1.0))
    head_lr_factor: float = hp(10.0, "Head and loss learn this many times faster than "
                               "the backbone.", range=(1.0, 1000.0))
    weight_decay: float = hp(1e-4, "AdamW weight decay.", range=(0.0, 1.0))
    warmup_iters: int = hp(20, "Steps of linear learning-rate warm-up.", range=(0, 100000))
    warmup_factor: float = hp(0.01, "Learning-rate factor at the first warm-up step.",
                              range=(0.0, 1.0))
    schedule: str = hp("cosine", "Learning-rate schedule after warm-up.",
                       choices=("cosine", "constant"))
    frozen_stages: int = hp(0, "Backbone stages kept frozen, from the input on "
                            "(0 = all learn; a large number freezes the whole backbone).",
                            range=(0, 16))
    hflip: float = hp(0.5, "Probability of a horizontal flip.", range=(0.0, 1.0))
    crop_scale: float = hp(0.8, "Random resized crop: smallest kept area fraction "
                           "(1 = no cropping).", range=(0.1, 1.0))
    photometric: bool = hp(True, "Random brightness/contrast/saturation/hue changes.")
    amp: bool = hp(True, "Mixed precision (CUDA only; ignored elsewhere).")
    grad_clip: float = hp(10.0, "Clip the gradient norm to this (0 = off).", range=(0.0, 1e6))
    patience: int = hp(0, "Stop after this many epochs without a better precision@1 "
                       "(0 = never).", range=(0, 1000))
    seed: int = hp(0, "Seed for the split, sampling, augmentation and init.",
                   range=(0, 2**31 - 1))
    val_fraction: float = hp(0.2, "Share of examples of each class held out for "
                             "validation (precision@1, R-precision, MAP@R).", range=(0.0, 0.9))
    pretrained: str = hp("imagenet", "Backbone start: none (random), imagenet or a "
                         ".pt/.pth file.", choices=("none", "imagenet"), or_file=True)
    workers: int = hp(-1, "Data-loading worker processes (-1: from the CPU cores this "
                      "process may use; 0: load in the training process).", range=(-1, 64))


# name -> (torchvision builder, ImageNet weights enum.member, description, hint, defaults)
BACKBONES: dict[str, tuple[str, str, str, str, dict[str, Any]]] = {
    "embed_mobilenet_v2": ("mobilenet_v2", "MobileNet_V2_Weights.IMAGENET1K_V1",
                           "MobileNetV2 embedder", "fast, CPU-friendly; ImageNet weights "
                           "ship offline", {}),
    "embed_resnet18": ("resnet18", "ResNet18_Weights.IMAGENET1K_V1", "ResNet-18 embedder",
                       "fast, a solid baseline", {}),
    "embed_resnet50": ("resnet50", "ResNet50_Weights.IMAGENET1K_V2", "ResNet-50 embedder",
                       "accurate, GPU advised", {"batch_size": 32}),
    "embed_efficientnet_b0": ("efficientnet_b0", "EfficientNet_B0_Weights.IMAGENET1K_V1",
                              "EfficientNet-B0 embedder", "small and accurate", {}),
    "embed_convnext_tiny": ("convnext_tiny", "ConvNeXt_Tiny_Weights.IMAGENET1K_V1",
                            "ConvNeXt-Tiny embedder", "accurate, GPU advised",
                            {"weight_decay": 0.05}),
    "embed_vit_b_16": ("vit_b_16", "ViT_B_16_Weights.IMAGENET1K_V1", "ViT-B/16 embedder",
                       "most accurate, slow; GPU needed; input fixed at 224",
                       {"weight_decay": 0.05, "lr": 3e-5}),
}


def _register(name: str, arch: str, weights: str, description: str, hint: str,
              defaults: dict[str, Any]) -> None:
    hparams = (derive(EmbedderHParams, f"{arch.title().replace('_', '')}EmbedderHParams",
                      **defaults) if defaults else EmbedderHParams)

    def builder(*, num_classes: int, hparams: Any) -> Any:
        from training.embedding.models import build_embedder

        return build_embedder(arch, weights, num_classes=num_classes, hp=hparams)

    register_template(name, task="embedder", description=description, hint=hint,
                      hparams=hparams, starts={"imagenet": weights})(builder)


for _name, (_arch, _weights, _desc, _hint, _defaults) in BACKBONES.items():
    _register(_name, _arch, _weights, _desc, _hint, _defaults)
