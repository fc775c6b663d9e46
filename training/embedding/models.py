"""Embedder networks: a torchvision backbone (its classifier removed) + a linear
projection head, with the metric-learning loss inside the module so that its
learnable parts (ArcFace class centres, ProxyAnchor proxies) are optimised and
checkpointed with the rest.

Training interface matches the detectors' so the shared ``train_one_epoch`` runs it:
``model(list_of_images, list_of_targets)`` returns ``{"loss": ...}`` in train mode;
in eval mode ``model(images)`` returns L2-normalised embeddings.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _strip_classifier(arch: str, net: nn.Module) -> tuple[nn.Module, int, list[nn.Module]]:
    """(backbone returning pooled features, feature size, stages from the input on)."""
    if arch.startswith("resnet"):
        dim = net.fc.in_features
        net.fc = nn.Identity()
        stages = [nn.ModuleList([net.conv1, net.bn1]), net.layer1, net.layer2, net.layer3,
                  net.layer4]
    elif arch.startswith(("mobilenet", "efficientnet")):
        dim = net.classifier[-1].in_features
        net.classifier = nn.Identity()
        stages = list(net.features)
    elif arch.startswith("convnext"):
        dim = net.classifier[-1].in_features
        net.classifier[-1] = nn.Identity()
        stages = list(net.features)
    elif arch.startswith("vit"):
        dim = net.heads[-1].in_features
        net.heads = nn.Identity()
        stages = [net.conv_proj, *net.encoder.layers]
    else:
        raise ValueError(f"unsupported embedder backbone {arch!r}")
    return net, dim, stages


def _backbone(arch: str, weights: str, hp: Any) -> tuple[nn.Module, int, list[nn.Module]]:
    import torchvision.models as tvm

    from training.weights import obtain_start

    kwargs: dict[str, Any] = {}
    if arch.startswith("vit"):
        if hp.pretrained == "imagenet" and hp.image_size != 224:
            raise ValueError("ViT-B/16 ImageNet weights need image_size=224")
        kwargs["image_size"] = hp.image_size
    w = None
    if hp.pretrained == "imagenet":   # missing weights: a random start, with a notice
        _start, w = obtain_start({"imagenet": weights}, "imagenet")
    return _strip_classifier(arch, getattr(tvm, arch)(weights=w, **kwargs))


def make_loss(hp: Any, num_classes: int) -> tuple[nn.Module, Any]:
    """The pml loss (and miner) named by ``hp.loss``, in float32."""
    from pytorch_metric_learning import losses, miners

    size = hp.embedding_size
    if hp.loss == "arcface":
        return losses.ArcFaceLoss(num_classes, size, margin=hp.margin, scale=hp.scale), None
    if hp.loss == "proxy_anchor":
        return losses.ProxyAnchorLoss(num_classes, size, margin=hp.margin / 286.0,
                                      alpha=hp.scale / 2), None
    if hp.loss == "multi_similarity":
        return losses.MultiSimilarityLoss(), miners.MultiSimilarityMiner(epsilon=0.1)
    if hp.loss == "supcon":
        return losses.SupConLoss(temperature=6.4 / hp.scale), None
    raise ValueError(f"unknown loss {hp.loss!r}")


class EmbeddingModel(nn.Module):
    def __init__(self, backbone: nn.Module, feature_dim: int, hp: Any, num_classes: int,
                 stages: list[nn.Module] | None = None):
        super().__init__()
        self.backbone = backbone
        # no bias: a shared offset only pulls every unit vector the same way
        self.head = nn.Linear(feature_dim, hp.embedding_size, bias=False)
        self.loss, self.miner = make_loss(hp, max(num_classes, 2))
        self.num_classes = num_classes
        frozen = [p for s in (stages or [])[:hp.frozen_stages] for p in s.parameters()]
        for p in frozen:
            p.requires_grad_(False)
        self._frozen_ids = {id(p) for p in frozen}

    def train(self, mode: bool = True) -> "EmbeddingModel":
        super().train(mode)
        # Frozen stages keep their BatchNorm statistics too (they see few images here).
        for m in self.backbone.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and any(
                    id(p) in self._frozen_ids for p in m.parameters()):
                m.eval()
        return self

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Unnormalised embeddings of a normalised image batch (N, 3, S, S)."""
        return self.head(self.backbone(x))

    def forward(self, images: Any, targets: Any = None) -> Any:
        x = torch.stack(list(images)) if isinstance(images, (list, tuple)) else images
        emb = self.embed(x)
        if not self.training or targets is None:
            return F.normalize(emb.float(), dim=1)
        labels = torch.stack([t["label"] for t in targets]).to(x.device)
        emb = emb.float()
        pairs = self.miner(emb, labels) if self.miner is not None else None
        return {"loss": self.loss(emb, labels, pairs)}

    def param_groups(self, lr: float, head_factor: float) -> list[dict[str, Any]]:
        backbone = [p for p in self.backbone.parameters() if p.requires_grad]
        rest = [p for p in list(self.head.parameters()) + list(self.loss.parameters())
                if p.requires_grad]
        return [{"params": backbone, "lr": lr}, {"params": rest, "lr": lr * head_factor}]


def build_embedder(arch: str, weights: str, *, num_classes: int, hp: Any) -> EmbeddingModel:
    from training.weights import load_weights_file

    backbone, dim, stages = _backbone(arch, weights, hp)
    model = EmbeddingModel(backbone, dim, hp, num_classes, stages)
    if hp.pretrained not in ("none", "imagenet"):
        load_weights_file(model, hp.pretrained)
    return model
