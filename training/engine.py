"""The two small loops, written like torchvision's references/detection/engine.py:
``train_one_epoch`` and ``evaluate``. Wiring (hooks, checkpoints, events) lives in
trainer.py and run.py.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Iterable

import torch


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; the run cannot continue."""


def to_device(images, targets, device):
    """Batch to ``device`` (non-blocking: the loader pins memory on CUDA). uint8 images
    travel as they are, 4x smaller than float, and become float in [0, 1] there."""
    images = [_as_float(im.to(device, non_blocking=True)) for im in images]
    targets = [{k: (v.to(device, non_blocking=True) if torch.is_tensor(v) else v)
                for k, v in t.items()} for t in targets]
    return images, targets


def _as_float(image: torch.Tensor) -> torch.Tensor:
    return image.float().div_(255) if image.dtype == torch.uint8 else image


def train_one_epoch(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    loader: Iterable, device: torch.device, *, scheduler: Any = None,
                    scaler: Any = None, amp: bool = False, grad_clip: float = 0.0,
                    first_step: int = 0,
                    on_step: Callable[[int, dict[str, torch.Tensor], torch.Tensor, int], bool]
                    | None = None) -> tuple[int, bool]:
    """Train over ``loader`` (which already skips ``first_step`` batches when resuming).
    The scheduler steps every iteration. ``on_step(step, loss_dict, loss, n_images)``
    gets the step's losses as device tensors (reading one is a host-device sync: the
    caller decides how often) and returns True to stop.
    Returns (steps done in the epoch, stopped early)."""
    model.train()
    step = first_step
    for images, targets in loader:
        images, targets = to_device(images, targets, device)
        with torch.autocast(device.type, enabled=amp):
            loss_dict = model(images, targets)
            loss = sum(loss_dict.values())
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None and scaler.is_enabled():
            scaler.scale(loss).backward()
            if grad_clip > 0:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            if grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        step += 1
        if on_step is not None and on_step(step, loss_dict, loss, len(images)):
            return step, True
    return step, False


@torch.inference_mode()
def predict_batches(model: torch.nn.Module, loader: Iterable, device: torch.device,
                    amp: bool = False) -> list[dict[str, Any]]:
    """COCO-style detections ([x, y, w, h] in original pixels, label as category_id)
    for every image; a target's ``scale`` maps a reduced sample back."""
    model.eval()
    out: list[dict[str, Any]] = []
    for images, targets in loader:
        images = [_as_float(im.to(device, non_blocking=True)) for im in images]
        with torch.autocast(device.type, enabled=amp):
            preds = model(images)
        for pred, target in zip(preds, targets):
            boxes = pred["boxes"].float().cpu()
            sx, sy = target.get("scale", (1.0, 1.0))
            if (sx, sy) != (1.0, 1.0):
                boxes /= torch.tensor([sx, sy, sx, sy])
            boxes[:, 2:] -= boxes[:, :2]
            image_id = target["image_id"]
            out += [{"image_id": image_id, "category_id": int(l), "bbox": b, "score": s}
                    for b, l, s in zip(boxes.tolist(), pred["labels"].tolist(),
                                       pred["scores"].float().tolist())]
    return out


def evaluate(model: torch.nn.Module, loader: Iterable, device: torch.device,
             ground_truth: dict[str, Any], class_names: list[str],
             amp: bool = False) -> dict[str, Any]:
    """mAP@[.5:.95], mAP50 and per-class AP of ``model`` on ``loader`` (COCOeval)."""
    return coco_metrics(ground_truth, predict_batches(model, loader, device, amp), class_names)


def coco_metrics(ground_truth: dict[str, Any], detections: list[dict[str, Any]],
                 class_names: list[str]) -> dict[str, Any]:
    """COCOeval on plain dicts; category ids are 1..K matching ``class_names``.
    pycocotools prints its tables; they go to stderr so stdout stays events only."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    empty = {"map": 0.0, "map50": 0.0,
             "per_class": {n: 0.0 for n in class_names}}
    if not ground_truth["annotations"]:
        return {"map": None, "map50": None, "per_class": {n: None for n in class_names}}
    with contextlib.redirect_stdout(sys.stderr):
        gt = COCO()
        gt.dataset = ground_truth
        gt.createIndex()
        if not detections:
            return empty
        dt = gt.loadRes(detections)
        ev = COCOeval(gt, dt, iouType="bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    precision = ev.eval["precision"]  # [iou, recall, class, area, maxdets]
    per_class: dict[str, float | None] = {}
    for k, cat_id in enumerate(ev.params.catIds):
        p = precision[:, :, k, 0, -1]
        per_class[class_names[cat_id - 1]] = float(p[p > -1].mean()) if (p > -1).any() else None
    stats = [max(float(s), 0.0) for s in ev.stats[:2]]
    return {"map": stats[0], "map50": stats[1], "per_class": per_class}
