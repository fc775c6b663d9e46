"""Export a trained detector to TorchScript or ONNX.

Both take one float image tensor [3, H, W] in [0, 1] (RGB) and return
boxes [N, 4] (xyxy pixels), labels [N] (1..K; subtract 1 for class_names) and
scores [N]. Detections under the model's internal 0.05 score floor are dropped.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import torch
from torch import Tensor, nn

from training.checkpoint import load_detector_checkpoint
from training.predictor import build_from_checkpoint


class _OnnxWrapper(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, image: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        out = self.model([image])[0]
        return out["boxes"], out["labels"], out["scores"]


class _ScriptWrapper(nn.Module):
    # Scripted torchvision detectors return (losses, detections); keep the detections.
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, image: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        images: List[Tensor] = [image]
        dets: List[Dict[str, Tensor]] = self.model(images)[1]
        return dets[0]["boxes"], dets[0]["labels"], dets[0]["scores"]


def load_model(checkpoint: str | Path) -> nn.Module:
    return build_from_checkpoint(load_detector_checkpoint(checkpoint))


def export_torchscript(checkpoint: str | Path, out: str | Path) -> Path:
    scripted = torch.jit.script(_ScriptWrapper(load_model(checkpoint)).eval())
    out = Path(out)
    scripted.save(str(out))
    return out


def export_onnx(checkpoint: str | Path, out: str | Path, size: int = 320,
                opset: int = 17) -> Path:
    """The sample image (``size`` square) only traces the graph: height and width
    stay dynamic."""
    wrapper = _OnnxWrapper(load_model(checkpoint)).eval()
    sample = torch.rand(3, size, size)
    out = Path(out)
    torch.onnx.export(
        wrapper, (sample,), str(out), opset_version=opset, dynamo=False,
        input_names=["image"], output_names=["boxes", "labels", "scores"],
        dynamic_axes={"image": {1: "height", 2: "width"}, "boxes": {0: "n"},
                      "labels": {0: "n"}, "scores": {0: "n"}})
    return out
