"""Trainer hooks: reporter (progress events), evaluation (metrics events),
checkpoints (``last.pt`` / ``best.pt`` + checkpoint events), early stop.
Hooks that write are installed on rank 0 only."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from training.checkpoint import save_checkpoint
from training.events import Emitter
from training.trainer import Hook, Trainer


class ReporterHook(Hook):
    """``progress`` events, at most one per ``min_interval_s`` (plus each epoch's last)."""

    def __init__(self, emitter: Emitter, min_interval_s: float = 0.2):
        self.emitter, self.min_interval_s = emitter, min_interval_s
        self._last_emit = 0.0

    def before_train(self, trainer: Trainer) -> None:
        self._t0 = time.perf_counter()
        self._done = 0          # steps done in this process (for the ETA)
        self._images = 0
        self._epoch = None

    def after_step(self, trainer: Trainer, images: int) -> None:
        now = time.perf_counter()
        if self._epoch != trainer.epoch:  # per-epoch throughput, loader start-up included
            self._epoch, self._epoch_t0, self._epoch_images = trainer.epoch, trainer.epoch_started, 0
        self._done += 1
        self._epoch_images += images
        steps = trainer.steps_per_epoch
        # Only fresh losses are reported (the trainer reads them from the device at
        # about this hook's rate, and always at an epoch's last step).
        if not trainer.synced or (now - self._last_emit < self.min_interval_s
                                  and trainer.step < steps):
            return
        loss, parts = trainer.losses
        self._last_emit = now
        elapsed = max(now - self._epoch_t0, 1e-9)
        if trainer.budget is not None:    # a time budget: the time left, the share spent
            extra = {"eta_s": trainer.budget.remaining_s(),
                     "progress": trainer.budget.fraction()}
        else:
            per_step = (now - self._t0) / self._done
            left = (trainer.epochs - trainer.epoch - 1) * steps + (steps - trainer.step)
            extra = {"eta_s": per_step * left}
        self.emitter.emit(
            "progress", epoch=trainer.epoch, step=trainer.step, steps=steps, loss=loss,
            losses=parts, lr=trainer.optimizer.param_groups[0]["lr"],
            images_per_s=self._epoch_images / elapsed, **extra)


class EvalHook(Hook):
    """Runs ``evaluate_fn(model) -> metrics`` after every epoch (if given) and
    decides whether the epoch improved: a higher score, compared metric by metric in
    the order of ``score_keys`` (mAP then mAP50 for detectors; precision@1 then MAP@R
    for embedders, whose precision@1 often ties at 1.0 on easy data), or a lower loss
    without validation. Counts the epochs since the last improvement in
    ``trainer.stale_epochs`` (saved in checkpoints, so early stopping resumes too)."""

    def __init__(self, evaluate_fn: Callable[[Any], dict[str, Any]] | None,
                 emitter: Emitter | None, score_keys: tuple[str, ...] = ("map", "map50"),
                 due: Callable[[Trainer], bool] | None = None):
        self.evaluate_fn, self.emitter, self.score_keys = evaluate_fn, emitter, score_keys
        self.due = due   # None: every epoch; a time budget spaces them (training.budget)

    def after_epoch(self, trainer: Trainer) -> None:
        if self.evaluate_fn is not None and self.due is not None and not self.due(trainer):
            trainer.improved = False    # not measured: neither better nor stale
            return
        score = None
        if self.evaluate_fn is not None:
            trainer.metrics = self.evaluate_fn(trainer.unwrapped)
            if trainer.metrics.get(self.score_keys[0]) is not None:
                score = [_number(trainer.metrics.get(k)) for k in self.score_keys]
            if self.emitter is not None:
                self.emitter.emit("metrics", epoch=trainer.epoch - 1,
                                  train_loss=trainer.epoch_loss, **trainer.metrics)
        if score is None and trainer.epoch_loss is not None:
            score = [-trainer.epoch_loss]
        best = trainer.best_score
        trainer.improved = score is not None and (best is None or score > best)
        trainer.stale_epochs = 0 if trainer.improved else trainer.stale_epochs + 1
        if trainer.improved:
            trainer.best_score = score
            if trainer.metrics and trainer.metrics.get("map") is not None:
                trainer.best_map = trainer.metrics["map"]


def _number(value: Any) -> float:
    return float(value) if value is not None else float("-inf")


class CheckpointHook(Hook):
    """``last.pt`` after every epoch and on cancel; ``best.pt`` when it improved."""

    def __init__(self, run_dir: str | Path, emitter: Emitter | None):
        self.run_dir, self.emitter = Path(run_dir), emitter
        self.last = self.run_dir / "last.pt"
        self.best = self.run_dir / "best.pt"

    def _save(self, trainer: Trainer, path: Path, kind: str) -> None:
        save_checkpoint(path, trainer.checkpoint_state())
        if self.emitter is not None:
            self.emitter.emit("checkpoint", epoch=trainer.epoch, kind=kind, path=str(path))

    def after_epoch(self, trainer: Trainer) -> None:
        self._save(trainer, self.last, "last")
        if trainer.improved:
            self._save(trainer, self.best, "best")

    def on_cancel(self, trainer: Trainer) -> None:
        self._save(trainer, self.last, "last")


class EarlyStopHook(Hook):
    """Stop after ``patience`` epochs without improvement (0 disables it); runs after
    EvalHook, which counts them in ``trainer.stale_epochs``."""

    def __init__(self, patience: int):
        self.patience = patience

    def after_epoch(self, trainer: Trainer) -> None:
        if self.patience > 0 and trainer.stale_epochs >= self.patience:
            trainer.early_stop = True
