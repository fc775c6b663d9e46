"""Export a trained embedder to TorchScript or ONNX.

The exported model takes one float batch ``images`` [N, 3, S, S]: RGB, scaled to
[0, 1], resized to the run's ``image_size`` S (square, as ``Embedder`` resizes;
the ImageNet mean/std normalisation is inside the model). It returns ``embeddings``
[N, D]: L2-normalised float32 rows (cosine similarity = dot product), the vectors
``training.embedding.inference.Embedder`` gives for the same pixels. The batch size
is free in both formats; the ONNX side is fixed at S (ViT needs it; for the CNNs it
is what the embedder was trained on).

    x = cv2.resize(rgb, (S, S)).astype(np.float32) / 255     # HWC, RGB
    vectors = session.run(None, {"images": x.transpose(2, 0, 1)[None]})[0]

The TorchScript file carries ``kestrel.json`` (template, image_size, embedding_size,
class_names) as an extra file: ``torch.jit.load(path, _extra_files={"kestrel.json": ""})``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from training.embedding.inference import build_from_checkpoint
from training.embedding.models import IMAGENET_MEAN, IMAGENET_STD
from training.embedding.checkpoint import load_embedder_checkpoint


class ExportedEmbedder(nn.Module):
    """Normalisation + backbone + projection head + L2 normalisation; no loss."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.backbone = model.backbone
        self.head = model.head
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, images: Tensor) -> Tensor:
        x = (images - self.mean) / self.std
        return F.normalize(self.head(self.backbone(x)).float(), dim=1)


def load_exportable(state: dict[str, Any]) -> tuple[ExportedEmbedder, Any]:
    """(the export module in eval mode, the run's hparams) of a loaded checkpoint."""
    model, hp = build_from_checkpoint(state)
    return ExportedEmbedder(model).eval(), hp


def _meta(state: dict[str, Any], hp: Any) -> str:
    return json.dumps({"kind": "embedder", "template": state["template"],
                       "image_size": hp.image_size, "embedding_size": hp.embedding_size,
                       "class_names": list(state["class_names"])})


def export_torchscript(checkpoint: str | Path | dict[str, Any], out: str | Path) -> Path:
    state = _state(checkpoint)
    module, hp = load_exportable(state)
    scripted = torch.jit.script(module)
    out = Path(out)
    scripted.save(str(out), _extra_files={"kestrel.json": _meta(state, hp)})
    return out


def export_onnx(checkpoint: str | Path | dict[str, Any], out: str | Path,
                opset: int = 17) -> Path:
    state = _state(checkpoint)
    module, hp = load_exportable(state)
    sample = torch.rand(2, 3, hp.image_size, hp.image_size)
    out = Path(out)
    torch.onnx.export(module, (sample,), str(out), opset_version=opset, dynamo=False,
                      input_names=["images"], output_names=["embeddings"],
                      dynamic_axes={"images": {0: "n"}, "embeddings": {0: "n"}})
    return out


def _state(checkpoint: str | Path | dict[str, Any]) -> dict[str, Any]:
    return checkpoint if isinstance(checkpoint, dict) else load_embedder_checkpoint(checkpoint)
