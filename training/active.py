"""Model answers for active learning (what to label next): a detector's detections on
a picture and on its horizontal flip, and the detector backbone's pooled features,
all from the same forward passes. The scoring itself (entropy, flip instability,
diversity) is plain numpy in the app (``app.next``); this module only runs models.

    scorer = ActiveScorer("runs/x/best.pt", device="auto")
    answers = scorer.run([rgb, ...])           # one Answer per frame
    answers[0].flip_boxes                      # the flipped view's boxes, mapped back

``ImageNetFeatures`` gives features with no detector at all (cold start): a MobileNetV2
pretrained on ImageNet, when its weights are in the torch hub cache.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from training.predictor import Predictor

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class Answer:
    boxes: np.ndarray          # (N, 4) float32 xyxy, frame pixels
    labels: np.ndarray         # (N,) int64, 0-based index into class_names
    scores: np.ndarray         # (N,) float32
    flip_boxes: np.ndarray     # the flipped view's detections, in the original's coordinates
    flip_labels: np.ndarray
    flip_scores: np.ndarray
    feature: np.ndarray | None  # (D,) float32, unit length: pooled backbone features


def pool_features(out) -> torch.Tensor:
    """(B, D) from a backbone's output (a tensor or a dict of feature maps): each level
    average-pooled and made unit length, then concatenated and made unit length."""
    levels = list(out.values()) if isinstance(out, dict) else [out]
    parts = [torch.nn.functional.normalize(t.float().mean(dim=(2, 3)), dim=1)
             for t in levels if t.dim() == 4]
    return torch.nn.functional.normalize(torch.cat(parts, dim=1), dim=1)


def unflip(boxes: np.ndarray, width: int) -> np.ndarray:
    """Boxes found on a horizontally flipped picture, in the picture's coordinates."""
    out = boxes.copy()
    out[:, 0], out[:, 2] = width - boxes[:, 2], width - boxes[:, 0]
    return out


class ActiveScorer:
    """A detector run's model, asked twice per picture (as is and flipped); the
    backbone's output of the first pass is pooled into a feature vector."""

    def __init__(self, checkpoint: str | Path, device: str = "auto",
                 score_threshold: float = 0.05):
        self.predictor = Predictor(checkpoint, device=device, score_threshold=score_threshold)
        self.class_names = self.predictor.class_names
        self._pooled: list[torch.Tensor] = []
        self._keep = False
        backbone = getattr(self.predictor.model, "backbone", None)
        self.has_features = backbone is not None
        if backbone is not None:
            backbone.register_forward_hook(self._hook)

    def _hook(self, _module, _inputs, output) -> None:
        if self._keep:
            self._pooled.append(pool_features(output).cpu())

    def run(self, frames: Sequence[np.ndarray], flip: bool = True,
            batch_size: int = 4) -> list[Answer]:
        """Frames are HxWx3 uint8 RGB."""
        out: list[Answer] = []
        for i in range(0, len(frames), batch_size):
            chunk = [np.ascontiguousarray(f) for f in frames[i:i + batch_size]]
            self._pooled, self._keep = [], True
            try:
                plain = self.predictor.predict(chunk, batch_size=len(chunk))
            finally:
                self._keep = False
            feats = torch.cat(self._pooled).numpy() if self._pooled else None
            flipped = (self.predictor.predict([f[:, ::-1] for f in chunk], batch_size=len(chunk))
                       if flip else [None] * len(chunk))
            for k, (frame, det, fdet) in enumerate(zip(chunk, plain, flipped)):
                empty = np.zeros((0, 4), np.float32)
                fb = unflip(fdet.boxes, frame.shape[1]) if fdet is not None else empty
                out.append(Answer(
                    det.boxes, det.labels, det.scores, fb,
                    fdet.labels if fdet is not None else np.zeros(0, np.int64),
                    fdet.scores if fdet is not None else np.zeros(0, np.float32),
                    feats[k].astype(np.float32) if feats is not None and len(feats) > k else None))
        return out


class ImageNetFeatures:
    """Pooled MobileNetV2 features (ImageNet weights from the hub cache, never
    downloaded); ``available()`` says whether the weights are on this machine."""

    SIZE = 224

    @staticmethod
    def available() -> bool:
        import torchvision.models as tvm

        from training.weights import cache_dir

        name = Path(tvm.MobileNet_V2_Weights.IMAGENET1K_V1.url).name
        return (cache_dir() / name).is_file()

    def __init__(self, device: str = "auto"):
        import torchvision.models as tvm

        from training.run import resolve_device
        from training.weights import ensure_cached

        weights = ensure_cached(tvm.MobileNet_V2_Weights.IMAGENET1K_V1)
        self.device = resolve_device(device)
        self.model = tvm.mobilenet_v2(weights=weights).features.eval().to(self.device)
        self.mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1)

    @torch.inference_mode()
    def embed(self, frames: Sequence[np.ndarray], batch_size: int = 16) -> np.ndarray:
        out = []
        for i in range(0, len(frames), batch_size):
            batch = torch.stack([self._tensor(f) for f in frames[i:i + batch_size]])
            out.append(pool_features(self.model((batch - self.mean) / self.std)).cpu().numpy())
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 1280), np.float32)

    def _tensor(self, frame: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(frame)).to(self.device).permute(2, 0, 1)
        t = t.float().unsqueeze(0) / 255.0
        return torch.nn.functional.interpolate(t, size=(self.SIZE, self.SIZE), mode="bilinear",
                                               align_corners=False)[0]
