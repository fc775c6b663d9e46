"""One log line per trainer event (progress events are shown by the bar instead)."""

from __future__ import annotations

from widgets.training_panel.charts import METRIC_LABELS

START_WORDS = {"coco": "COCO detector weights", "imagenet": "ImageNet backbone weights",
               "file": "a weights file", "none": "RANDOM weights"}


def _minutes(seconds: float) -> str:
    m = seconds / 60
    return f"{m:.0f} min" if m >= 1 and m == int(m) else f"{m:.1f} min"


def summarise_event(e: dict) -> str | None:
    k = e.get("event")
    if k == "started":
        resumed = f", resumed at epoch {e.get('start_epoch', 0) + 1}" if e.get("resumed_from") else ""
        length = (f"for {_minutes(e['time_budget_s'])} (time budget)" if e.get("time_budget_s")
                  else f"{e['epochs']} epochs")
        start = f", from {START_WORDS[e['start']]}" if e.get("start") in START_WORDS else ""
        return (f"started on {e['device']}: {e.get('train_images', '?')} train / "
                f"{e.get('val_images', '?')} val images, {length}, "
                f"{e['steps_per_epoch']} steps per epoch{start}{resumed}")
    if k == "weights":
        text = e.get("message") or ""
        return (("⚠ " if e.get("warning") else "") + text) if text else None
    if k == "metrics":
        parts = [f"{METRIC_LABELS[m]} {e[m]:.3f}" for m in METRIC_LABELS
                 if isinstance(e.get(m), (int, float))]
        return f"epoch {e['epoch'] + 1}: " + (", ".join(parts) or "no validation images")
    if k == "checkpoint":
        return f"saved {e['kind']} checkpoint after epoch {e['epoch']}"
    if k == "finished":
        best, name = e.get("best_map"), "mAP"
        if not isinstance(best, (int, float)):   # embedders report retrieval precision
            best, name = e.get("best_precision_at_1"), "precision@1"
        return ("finished" + (f", best {name} {best:.3f}" if isinstance(best, (int, float)) else "")
                + (" (stopped early)" if e.get("early_stopped") else ""))
    if k == "cancelled":
        return f"cancelled at epoch {e['epoch'] + 1}, step {e['step']}; checkpoint {e['checkpoint']}"
    if k == "failed":
        return f"failed: {e['message']}\n{e.get('traceback') or ''}".rstrip()
    return None
