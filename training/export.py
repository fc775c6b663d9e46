"""Export a trained detector or embedder to TorchScript or ONNX; the checkpoint's
``format`` says which it is.

Detectors: both take one float image tensor [3, H, W] in [0, 1] (RGB) and return
boxes [N, 4] (xyxy pixels), labels [N] (1..K; subtract 1 for class_names) and
scores [N]. Detections under the model's internal 0.05 score floor are dropped.

Embedders: a batch [N, 3, S, S] in [0, 1] (RGB, resized to the run's image_size S)
in, L2-normalised embeddings [N, D] out; see ``training.embedding.export``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Tuple

import torch
from torch import Tensor, nn

from training.checkpoint import (FORMAT, CheckpointError, check_detector, load_checkpoint,
                                 load_detector_checkpoint)
from training.embedding.checkpoint import FORMAT as EMBEDDER_FORMAT
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
    """The detector of a detector checkpoint, in eval mode."""
    return build_from_checkpoint(load_detector_checkpoint(checkpoint))


def _kind(state: dict[str, Any]) -> str:
    return "embedder" if state.get("format") == EMBEDDER_FORMAT else "detector"


def load_any(checkpoint: str | Path) -> tuple[str, dict[str, Any]]:
    """("detector" or "embedder", the checkpoint's state)."""
    state = load_checkpoint(checkpoint)
    if state.get("format") not in (FORMAT, EMBEDDER_FORMAT):
        raise CheckpointError(f"{checkpoint}: not a Kestrel detector or embedder checkpoint")
    if _kind(state) == "detector":
        check_detector(state, checkpoint)
    return _kind(state), state


def export(checkpoint: str | Path, fmt: str, out: str | Path,
           size: int = 320) -> tuple[Path, str]:
    """(the written file, "detector" or "embedder"); ``fmt`` is torchscript or onnx."""
    if fmt not in ("torchscript", "onnx"):
        raise ValueError(f"unknown export format {fmt!r}")
    kind, state = load_any(checkpoint)
    path = (export_torchscript(state, out) if fmt == "torchscript"
            else export_onnx(state, out, size))
    return path, kind


def _loaded(checkpoint: str | Path | dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if isinstance(checkpoint, dict):
        return _kind(checkpoint), checkpoint
    return load_any(checkpoint)


def export_torchscript(checkpoint: str | Path | dict[str, Any], out: str | Path) -> Path:
    kind, state = _loaded(checkpoint)
    if kind == "embedder":
        from training.embedding import export as emb

        return emb.export_torchscript(state, out)
    scripted = torch.jit.script(_ScriptWrapper(build_from_checkpoint(state)).eval())
    out = Path(out)
    scripted.save(str(out))
    return out


def export_onnx(checkpoint: str | Path | dict[str, Any], out: str | Path, size: int = 320,
                opset: int = 17) -> Path:
    """Detectors: the sample image (``size`` square) only traces the graph, height and
    width stay dynamic. Embedders: the batch size is dynamic, the side is the run's
    image_size (``size`` is not used)."""
    kind, state = _loaded(checkpoint)
    if kind == "embedder":
        from training.embedding import export as emb

        return emb.export_onnx(state, out, opset=opset)
    wrapper = _OnnxWrapper(build_from_checkpoint(state)).eval()
    sample = torch.rand(3, size, size)
    out = Path(out)
    torch.onnx.export(
        wrapper, (sample,), str(out), opset_version=opset, dynamo=False,
        input_names=["image"], output_names=["boxes", "labels", "scores"],
        dynamic_axes={"image": {1: "height", 2: "width"}, "boxes": {0: "n"},
                      "labels": {0: "n"}, "scores": {0: "n"}})
    return out
