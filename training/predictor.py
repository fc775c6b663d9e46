"""Inference from a checkpoint: numpy frames in, boxes/labels/scores out.

    from training.predictor import Predictor
    p = Predictor("runs/x/best.pt", device="auto", score_threshold=0.5)
    dets = p.predict([frame_rgb, ...])   # list of Detections, one per frame
    dets[0].boxes  # (N, 4) float32 x0, y0, x1, y1 in frame pixels
    dets[0].labels # (N,) int64, index into p.class_names
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from training import hparams as hpmod
from training.checkpoint import CheckpointError, load_detector_checkpoint
from training.templates import get_template


@dataclass
class Detections:
    boxes: np.ndarray    # (N, 4) float32, xyxy pixels
    labels: np.ndarray   # (N,) int64, 0-based index into class_names
    scores: np.ndarray   # (N,) float32, descending
    class_names: list[str]

    @property
    def names(self) -> list[str]:
        return [self.class_names[i] for i in self.labels]

    def __len__(self) -> int:
        return len(self.scores)


def build_from_checkpoint(state: dict[str, Any]) -> torch.nn.Module:
    """The trained model, built without touching any pretrained weights file."""
    spec = get_template(state["template"])
    hp = dataclasses.replace(hpmod.from_dict(spec.hparams, state["hparams"]), pretrained="none")
    model = spec.build(num_classes=len(state["class_names"]) + 1, hparams=hp)
    # A pretrained start used FrozenBatchNorm (no num_batches_tracked); a random start
    # builds BatchNorm, which in eval mode computes the same thing.
    missing, unexpected = model.load_state_dict(state["model"], strict=False)
    bad = [k for k in missing if not k.endswith("num_batches_tracked")] + list(unexpected)
    if bad:
        raise CheckpointError(f"checkpoint does not fit template {state['template']!r}: "
                              f"{bad[:5]}{'...' if len(bad) > 5 else ''}")
    return model.eval()


class Predictor:
    def __init__(self, checkpoint: str | Path, device: str = "auto",
                 score_threshold: float = 0.5):
        from training.run import resolve_device

        state = load_detector_checkpoint(checkpoint)
        self.template: str = state["template"]
        self.class_names: list[str] = list(state["class_names"])
        self.category_ids: list[int] = list(state.get("category_ids", []))
        self.hparams: dict[str, Any] = dict(state["hparams"])
        self.device = resolve_device(device)
        self.model = build_from_checkpoint(state).to(self.device)
        self.score_threshold = score_threshold

    def _to_tensor(self, frame: np.ndarray, bgr: bool) -> torch.Tensor:
        a = np.asarray(frame)
        if a.ndim == 2:
            a = np.repeat(a[:, :, None], 3, axis=2)
        if a.ndim != 3 or a.shape[2] not in (3, 4):
            raise ValueError(f"expected an HxWx3 frame, got shape {a.shape}")
        a = a[:, :, :3]
        if bgr:
            a = a[:, :, ::-1]
        a = np.ascontiguousarray(a)
        if not a.flags.writeable:  # cached video frames are read-only; torch wants to own them
            a = a.copy()
        t = torch.from_numpy(a).to(self.device).permute(2, 0, 1)
        return t.float() / 255.0 if a.dtype == np.uint8 else t.float()

    @torch.inference_mode()
    def predict(self, frames: Sequence[np.ndarray], batch_size: int = 8,
                score_threshold: float | None = None, bgr: bool = False) -> list[Detections]:
        """Frames are HxWx3 uint8 RGB (``bgr=True`` for OpenCV frames) or float in [0, 1]."""
        thr = self.score_threshold if score_threshold is None else score_threshold
        out: list[Detections] = []
        for i in range(0, len(frames), batch_size):
            batch = [self._to_tensor(f, bgr) for f in frames[i:i + batch_size]]
            for pred in self.model(batch):
                keep = pred["scores"] >= thr
                out.append(Detections(
                    boxes=pred["boxes"][keep].float().cpu().numpy().astype(np.float32),
                    labels=(pred["labels"][keep].cpu().numpy() - 1).astype(np.int64),
                    scores=pred["scores"][keep].float().cpu().numpy().astype(np.float32),
                    class_names=self.class_names))
        return out

    def __call__(self, frame: np.ndarray, **kwargs: Any) -> Detections:
        return self.predict([frame], **kwargs)[0]
