"""``Embedder``: images or crops (numpy RGB uint8) in, L2-normalised float32 vectors
out, batched. Loads a Kestrel embedder checkpoint with ``weights_only=True``.

    emb = Embedder("runs/0003-embed_mobilenet_v2/best.pt")
    vectors = emb.embed([rgb1, rgb2])               # (2, D) float32, unit rows
    vectors = emb.embed_crops(rgb, [(x1, y1, x2, y2)])
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np
import torch

from training import hparams as hpmod
from training.embedding.data import crop_box
from training.embedding.models import IMAGENET_MEAN, IMAGENET_STD
from training.embedding.checkpoint import load_embedder_checkpoint
from training.templates import get_template

_MEAN = np.asarray(IMAGENET_MEAN, np.float32) * 255
_STD = np.asarray(IMAGENET_STD, np.float32) * 255


def build_from_checkpoint(state: dict[str, Any]) -> tuple[torch.nn.Module, Any]:
    """(model in eval mode, its hparams) of a loaded embedder checkpoint."""
    spec = get_template(state["template"])
    hparams = dataclasses.replace(hpmod.from_dict(spec.hparams, state["hparams"]),
                                  pretrained="none")  # the checkpoint has the weights
    model = spec.build(num_classes=len(state["class_names"]), hparams=hparams)
    model.load_state_dict(state["model"])
    return model.eval(), hparams


class Embedder:
    def __init__(self, checkpoint: str | Path | None = None, device: str = "cpu", *,
                 model: torch.nn.Module | None = None, hparams: Any = None,
                 class_names: list[str] | None = None, backbone_only: bool = False):
        if checkpoint is not None:
            state = load_embedder_checkpoint(checkpoint)
            model, hparams = build_from_checkpoint(state)
            class_names = list(state["class_names"])
            self.template = state["template"]
        if model is None or hparams is None:
            raise ValueError("Embedder needs a checkpoint, or a model and its hparams")
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.hparams, self.class_names = hparams, class_names or []
        self.size = hparams.image_size
        self.padding = hparams.crop_padding
        self.backbone_only = backbone_only

    @classmethod
    def pretrained(cls, template: str, image_size: int = 224, device: str = "cpu") -> "Embedder":
        """The template's ImageNet backbone alone (pooled features, no head): the
        baseline a fine-tuned embedder is compared with."""
        spec = get_template(template)
        hp = hpmod.parse_overrides(spec.hparams(), [f"image_size={image_size}"])
        model = spec.build(num_classes=2, hparams=hp)
        emb = cls(model=model, hparams=hp, device=device, backbone_only=True)
        emb.template = template
        return emb

    @property
    def dim(self) -> int:
        return self.model.head.in_features if self.backbone_only else self.model.head.out_features

    def _tensor(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        s = self.size
        batch = np.empty((len(images), s, s, 3), np.float32)
        for i, img in enumerate(images):
            img = np.asarray(img)
            if img.ndim == 2:
                img = np.repeat(img[..., None], 3, axis=2)
            h, w = img.shape[:2]
            interp = cv2.INTER_AREA if h > s or w > s else cv2.INTER_LINEAR
            batch[i] = cv2.resize(np.ascontiguousarray(img[..., :3]), (s, s),
                                  interpolation=interp)
        batch = (batch - _MEAN) / _STD
        return torch.from_numpy(batch).permute(0, 3, 1, 2).to(self.device)

    @torch.inference_mode()
    def embed(self, images: Sequence[np.ndarray], batch_size: int = 32) -> np.ndarray:
        """(N, D) float32 unit vectors of RGB uint8 images (any size; resized square)."""
        out = []
        for i in range(0, len(images), batch_size):
            x = self._tensor(images[i:i + batch_size])
            v = self.model.features(x) if self.backbone_only else self.model.embed(x)
            out.append(torch.nn.functional.normalize(v.float(), dim=1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)

    def crops(self, image: np.ndarray, boxes: Sequence[Sequence[float]]) -> list[np.ndarray]:
        """The boxes (xyxy) of ``image`` cut out with the run's ``crop_padding``."""
        return [crop_box(image, b, self.padding) for b in boxes]

    def embed_crops(self, image: np.ndarray, boxes: Sequence[Sequence[float]],
                    batch_size: int = 32) -> np.ndarray:
        return self.embed(self.crops(image, boxes), batch_size)
