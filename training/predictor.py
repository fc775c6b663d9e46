"""Inference from a checkpoint: numpy frames in, boxes/labels/scores out.

    from training.predictor import Predictor
    p = Predictor("runs/x/best.pt", device="auto", score_threshold=0.5)
    dets = p.predict([frame_rgb, ...])   # list of Detections, one per frame
    dets[0].boxes  # (N, 4) float32 x0, y0, x1, y1 in frame pixels
    dets[0].labels # (N,) int64, index into p.class_names

Frames larger than the model's input are reduced to it first (antialiased, on uint8,
which is cheaper than the model's own float resize and matches how the trainer's
image cache reduces photos); boxes come back in the frame's pixels, or in the
original's when ``sizes`` says a frame is a reduced copy (``read_fitted``).
Batches are formed from frames of similar shape: a detector pads a batch to its
largest image, so a portrait among landscapes would cost a square.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np
import torch

from training import hparams as hpmod
from training.checkpoint import CheckpointError, load_detector_checkpoint
from training.sizing import input_fit
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
        fit = input_fit(self.template, hpmod.from_dict(get_template(self.template).hparams,
                                                       self.hparams))
        # the model's input, without the training margin kept for zoom augmentation
        self.input_fit = dataclasses.replace(fit, margin=1.0) if fit is not None else None

    def _reduce(self, a: np.ndarray) -> np.ndarray:
        if self.input_fit is None or a.dtype not in (np.uint8, np.float32):
            return a
        h, w = a.shape[:2]
        size = self.input_fit.size(w, h)
        if size == (w, h):
            return a
        return cv2.resize(np.ascontiguousarray(a), size, interpolation=cv2.INTER_AREA)

    def _to_tensor(self, frame: np.ndarray, bgr: bool) -> torch.Tensor:
        a = np.asarray(frame)
        if a.ndim == 2:
            a = np.repeat(a[:, :, None], 3, axis=2)
        if a.ndim != 3 or a.shape[2] not in (3, 4):
            raise ValueError(f"expected an HxWx3 frame, got shape {a.shape}")
        a = a[:, :, :3]
        if bgr:
            a = a[:, :, ::-1]
        a = self._reduce(np.ascontiguousarray(a))
        if not a.flags.writeable:  # cached video frames are read-only; torch wants to own them
            a = a.copy()
        t = torch.from_numpy(a).to(self.device).permute(2, 0, 1)
        return t.float() / 255.0 if a.dtype == np.uint8 else t.float()

    @torch.inference_mode()
    def predict(self, frames: Sequence[np.ndarray], batch_size: int = 8,
                score_threshold: float | None = None, bgr: bool = False,
                sizes: Sequence[tuple[int, int] | None] | None = None) -> list[Detections]:
        """Frames are HxWx3 uint8 RGB (``bgr=True`` for OpenCV frames) or float in [0, 1].
        ``sizes[i]``: (width, height) of the original frame ``i`` was reduced from, so
        its boxes come back in the original's pixels (None: frame ``i`` is whole)."""
        thr = self.score_threshold if score_threshold is None else score_threshold
        out: list[Detections | None] = [None] * len(frames)
        shapes = [np.shape(f)[:2] for f in frames]
        order = sorted(range(len(frames)), key=lambda k: shapes[k][1] / max(1, shapes[k][0]))
        for i in range(0, len(order), batch_size):
            chunk = order[i:i + batch_size]
            batch = [self._to_tensor(frames[k], bgr) for k in chunk]
            for k, image, pred in zip(chunk, batch, self.model(batch)):
                keep = pred["scores"] >= thr
                boxes = pred["boxes"][keep].float().cpu().numpy().astype(np.float32)
                h, w = image.shape[-2:]
                full_w, full_h = (sizes[k] if sizes is not None and sizes[k] is not None
                                  else shapes[k][::-1])
                if (w, h) != (full_w, full_h):
                    boxes *= np.array([full_w / w, full_h / h] * 2, np.float32)
                out[k] = Detections(
                    boxes=boxes,
                    labels=(pred["labels"][keep].cpu().numpy() - 1).astype(np.int64),
                    scores=pred["scores"][keep].float().cpu().numpy().astype(np.float32),
                    class_names=self.class_names)
        return out  # type: ignore[return-value]

    def __call__(self, frame: np.ndarray, **kwargs: Any) -> Detections:
        return self.predict([frame], **kwargs)[0]
