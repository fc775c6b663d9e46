"""The two small loops, written like torchvision's references/detection/engine.py:
``train_one_epoch`` and ``evaluate``. Wiring (hooks, checkpoints, events) lives in
trainer.py and run.py.
"""
from __future__ import annotations

import contextlib
import math
import sys
from typing import Any, Callable, Iterable

import torch


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; the run cannot continue."""


def _to_device(images, targets, device):
    images = [im.to(device, non_blocking=True) for im in images]
    targets = [{k: (v.to(device, non_blocking=True) if torch.is_tensor(v) else v)
                for k, v in t.items()} for t in targets]
    return images, targets


def train_one_epoch(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    loader: Iterable, device: torch.device, *, scheduler: Any = None,
                    scaler: Any = None, amp: bool = False, grad_clip: float = 0.0,
                    first_step: int = 0,
                    on_step: Callable[[int, float, dict[str, float], int], None] | None = None,
                    should_stop: Callable[[], bool] = lambda: False,
                    all_reduce: Callable[[torch.Tensor], torch.Tensor] | None = None,
                    ) -> tuple[int, bool]:
    """Train over ``loader`` (which already skips ``first_step`` batches when resuming).
    The scheduler steps every iteration. ``on_step(step, loss, parts, n_images)`` is
    called after each step with losses averaged over ranks. ``should_stop`` is read
    after each step; any rank asking stops all (``all_reduce`` sums over ranks).
    Returns (steps done in the epoch, stopped early)."""
    model.train()
    step = first_step
    for images, targets in loader:
        images, targets = _to_device(images, targets, device)
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
        # One small tensor carries the loss parts and the stop request: one sync per step.
        stats = torch.stack([loss.detach().float().sum()]
                            + [v.detach().float().sum() for v in loss_dict.values()]
                            + [torch.tensor(float(should_stop()), device=loss.device)])
        if all_reduce is not None:
            stats = all_reduce(stats)
        values = stats.tolist()
        total = values[0]
        if not math.isfinite(total):
            parts = dict(zip(loss_dict, values[1:-1]))
            raise NonFiniteLoss(f"loss is {total} at step {step}; parts {parts}. "
                                "Try a lower learning rate or more warm-up.")
        if on_step is not None:
            on_step(step, total, dict(zip(loss_dict, values[1:-1])), len(images))
        # A hook may ask to stop inside on_step; with several ranks that request is
        # seen (by all) at the next step's reduction.
        if values[-1] > 0 or (all_reduce is None and should_stop()):
            return step, True
    return step, False


@torch.inference_mode()
def predict_batches(model: torch.nn.Module, loader: Iterable, device: torch.device,
                    amp: bool = False) -> list[dict[str, Any]]:
    """COCO-style detections ([x, y, w, h], label as category_id) for every image."""
    model.eval()
    out: list[dict[str, Any]] = []
    for images, targets in loader:
        images = [im.to(device, non_blocking=True) for im in images]
        with torch.autocast(device.type, enabled=amp):
            preds = model(images)
        for pred, target in zip(preds, targets):
            boxes = pred["boxes"].float().cpu()
            boxes[:, 2:] -= boxes[:, :2]
            for b, l, s in zip(boxes.tolist(), pred["labels"].tolist(), pred["scores"].float().tolist()):
                out.append({"image_id": target["image_id"], "category_id": int(l),
                            "bbox": b, "score": s})
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
