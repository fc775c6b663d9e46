"""Training events: one JSON object per line on stdout (human logs go to stderr).

Torch-free: the app imports this to read a training process's output.

Schema version 1. Every event has ``"schema": 1``, ``"event": <kind>`` and
``"time"`` (Unix seconds, float). Per kind, the other fields:

``started``     run_dir, template, device, world_size, epochs, steps_per_epoch,
                train_images, val_images, class_names (list), hparams (dict),
                resumed_from (path or null), start_epoch, time_budget_s (null, or the
                seconds the run trains for: epochs is then only a cap), start (what the
                model started from: "coco" | "imagenet" | "none" | "file" | null)
``progress``    epoch (0-based), step (1-based within the epoch), steps,
                loss (float, total), losses (dict part -> float), lr,
                images_per_s, eta_s (seconds left in the whole run); with a time
                budget also progress (share of the budget spent, 0..1)
``metrics``     epoch, map (mAP@[.5:.95]), map50, per_class (dict name -> AP@[.5:.95],
                null where the class has no validation boxes), train_loss
``checkpoint``  epoch (epochs completed), kind ("last" | "best"), path
``weights``     state ("missing" | "downloading" | "downloaded" | "failed" | "start"),
                message (for people; empty for download progress), warning (bool),
                weights ("Enum.MEMBER" or null), file; downloading adds done_bytes,
                total_bytes; start adds start ("coco" | "imagenet" | "none", what the
                model starts from) and requested
``finished``    epoch (epochs completed), best_map (or null), best_path (or null),
                last_path, elapsed_s, early_stopped (bool)
``cancelled``   epoch, step (where a resume goes on: epoch index and steps done in it),
                checkpoint (resumable path), reason ("SIGINT" | "SIGTERM" | ...)
``failed``      message, traceback (string), epoch (or null)

``finished``, ``cancelled`` and ``failed`` are terminal: exactly one ends a run.
Readers must ignore unknown fields; a new required field bumps ``schema``.

Embedder runs (templates of task "embedder") emit the same events with extra,
optional fields: ``started`` adds task ("embedder"), excluded_classes (dict name ->
examples: classes with a single example, left out of training) and
multi_tagged_images; ``metrics`` adds precision_at_1, r_precision and map_at_r
(validation queries against validation + training examples, cosine), with ``map``
and ``map50`` null and ``per_class`` holding precision@1 per class; ``finished``
adds best_precision_at_1 (``best_map`` is null).
"""
from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, TextIO

SCHEMA = 1

REQUIRED: dict[str, tuple[str, ...]] = {
    "started": ("run_dir", "template", "device", "epochs", "steps_per_epoch",
                "class_names", "hparams"),
    "progress": ("epoch", "step", "steps", "loss", "losses", "lr", "images_per_s", "eta_s"),
    "metrics": ("epoch", "map", "map50", "per_class"),
    "checkpoint": ("epoch", "kind", "path"),
    "weights": ("state", "message"),
    "finished": ("epoch", "best_map", "best_path", "last_path"),
    "cancelled": ("epoch", "step", "checkpoint"),
    "failed": ("message", "traceback"),
}
TERMINAL = frozenset({"finished", "cancelled", "failed"})


class EventError(ValueError):
    """A line is not a valid event of a known schema."""


def make_event(kind: str, /, **fields: Any) -> dict[str, Any]:
    if kind not in REQUIRED:
        raise EventError(f"unknown event kind {kind!r}")
    missing = [k for k in REQUIRED[kind] if k not in fields]
    if missing:
        raise EventError(f"{kind} event lacks {missing}")
    return {"schema": SCHEMA, "event": kind, "time": time.time(), **fields}


def parse_event(line: str | bytes) -> dict[str, Any]:
    """Parse one stdout line into an event dict; raise EventError if it is not one."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EventError(f"not JSON: {line[:80]!r} ({exc})") from None
    if not isinstance(obj, dict) or "event" not in obj:
        raise EventError(f"not an event: {line[:80]!r}")
    if obj.get("schema") != SCHEMA:
        raise EventError(f"unsupported event schema {obj.get('schema')!r} (reader knows {SCHEMA})")
    kind = obj["event"]
    if kind not in REQUIRED:
        raise EventError(f"unknown event kind {kind!r}")
    missing = [k for k in REQUIRED[kind] if k not in obj]
    if missing:
        raise EventError(f"{kind} event lacks {missing}")
    return obj


def is_terminal(event: dict[str, Any]) -> bool:
    return event.get("event") in TERMINAL


class Emitter:
    """Writes events as JSON lines, flushed at once; silent on non-zero ranks."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True):
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = enabled
        self._lock = threading.Lock()

    def emit(self, kind: str, /, **fields: Any) -> dict[str, Any]:
        event = make_event(kind, **fields)
        if self.enabled:
            line = json.dumps(_finite(event), allow_nan=False, default=_json_default)
            with self._lock:
                self.stream.write(line + "\n")
                self.stream.flush()
        return event


def _finite(obj: Any) -> Any:
    # NaN/inf are not JSON: they become null, so a diverging loss still reports.
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _json_default(obj: Any) -> Any:
    # numpy / torch scalars reach here; anything else is a bug worth seeing as text.
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)
