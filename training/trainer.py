"""The training loop with hooks (after detectron2's engine/hooks.py): the loop only
runs epochs and steps; evaluation, checkpoints, reporting and early stopping are
hooks (hooks.py), so each concern stays small and testable.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import torch

from training.checkpoint import rng_state
from training.engine import train_one_epoch
from training.meter import LossMeter


class Hook:
    """Override what you need. ``trainer`` exposes epoch, step, steps_per_epoch,
    metrics, epoch_loss, improved, best_score, stop_reason, and after a step
    ``losses`` ((mean total, mean parts) of the steps up to the latest read) and
    ``synced`` (whether this step read them; see LossMeter)."""

    def before_train(self, trainer: "Trainer") -> None: ...
    def after_step(self, trainer: "Trainer", images: int) -> None: ...
    def after_epoch(self, trainer: "Trainer") -> None: ...
    def on_cancel(self, trainer: "Trainer") -> None: ...
    def after_train(self, trainer: "Trainer", outcome: str) -> None: ...


class Trainer:
    """Runs epochs ``start_epoch..epochs-1``; ``train()`` returns "finished",
    "early_stopped" or "cancelled" (a stop requested by ``request_stop``)."""

    def __init__(self, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 scheduler: Any, scaler: Any, loader: Any, batch_sampler: Any,
                 device: torch.device, epochs: int, steps_per_epoch: int,
                 hooks: list[Hook], amp: bool = False, grad_clip: float = 0.0,
                 start_epoch: int = 0, start_step: int = 0, meta: dict[str, Any] | None = None,
                 all_reduce: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 world_size: int = 1, sync_interval_s: float = 0.0, sync_every: int = 1):
        self.model, self.optimizer, self.scheduler, self.scaler = model, optimizer, scheduler, scaler
        self.loader, self.batch_sampler, self.device = loader, batch_sampler, device
        self.epochs, self.steps_per_epoch, self.hooks = epochs, steps_per_epoch, hooks
        self.amp, self.grad_clip, self.all_reduce = amp, grad_clip, all_reduce
        self.world_size = world_size
        # Losses are read from the device (a sync) at most every ``sync_interval_s``
        # with one process, every ``sync_every`` steps with several (all ranks must
        # read together), and at each epoch's last step.
        self.sync_interval_s, self.sync_every = sync_interval_s, max(1, sync_every)
        self.meter = LossMeter(all_reduce)
        self.losses: tuple[float, dict[str, float]] | None = None
        self.synced = False
        self._read_at = 0.0
        self.start_epoch, self.start_step = start_epoch, start_step
        self.epoch, self.step = start_epoch, start_step
        self.meta = meta or {}
        self.metrics: dict[str, Any] | None = None
        self.epoch_loss: float | None = None
        self.best_score: list[float] | None = None   # see EvalHook
        self.best_map: float | None = None
        self.stale_epochs = 0          # epochs since the last improvement
        self.improved = False
        self.early_stop = False
        self.stop_reason: str | None = None
        # A time budget (training.budget) ends the run mid-epoch: that epoch is then
        # evaluated and saved as complete and the run finishes.
        self.budget: Any = None
        self.finish_requested = False
        self.started_at = time.time()

    # -- control -------------------------------------------------------------------
    def request_stop(self, reason: str = "cancel") -> None:
        """Finish the current step, save, and end the run as cancelled. Signal-safe."""
        self.stop_reason = reason

    @property
    def unwrapped(self) -> torch.nn.Module:
        return getattr(self.model, "module", self.model)

    def checkpoint_state(self) -> dict[str, Any]:
        """Everything a resume needs; ``epoch``/``step`` say where training goes on."""
        return {
            **self.meta,
            "model": self.unwrapped.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else {},
            "scaler": self.scaler.state_dict() if self.scaler is not None else {},
            "epoch": self.epoch, "step": self.step,
            "metrics": self.metrics or {}, "best_map": self.best_map,
            "best_score": self.best_score, "stale_epochs": self.stale_epochs,
            "rng": rng_state(),
            "budget": self.budget.state_dict() if self.budget is not None else None,
        }

    # -- loop ----------------------------------------------------------------------
    def train(self) -> str:
        for h in self.hooks:
            h.before_train(self)
        outcome = "finished"
        first_step = self.start_step
        for epoch in range(self.start_epoch, self.epochs):
            if self._any_rank(self.stop_reason is not None):  # asked during evaluation
                self.stop_reason = self.stop_reason or "cancel"
                outcome = "cancelled"
                break
            self.epoch, self.step = epoch, first_step
            self.batch_sampler.set_epoch(epoch, skip=first_step)
            self.meter.start_epoch()
            self.epoch_started = time.perf_counter()
            step, stopped = train_one_epoch(
                self.model, self.optimizer, self.loader, self.device,
                scheduler=self.scheduler, scaler=self.scaler, amp=self.amp,
                grad_clip=self.grad_clip, first_step=first_step, on_step=self._on_step)
            first_step = 0
            finishing = stopped and self.finish_requested and self.stop_reason is None
            stopped = stopped and not finishing
            if stopped and self.stop_reason is None:
                self.stop_reason = "cancel"  # another rank was asked to stop
            if stopped and step < self.steps_per_epoch:
                self.step = step
                outcome = "cancelled"
                break
            self.epoch, self.step = epoch + 1, 0  # the epoch is complete (or the time is up)
            self.epoch_loss = self.meter.epoch_loss
            if stopped:
                outcome = "cancelled"
                break
            for h in self.hooks:
                h.after_epoch(self)
            if finishing:
                break
            if self._any_rank(self.early_stop):
                outcome = "early_stopped"
                break
        if outcome == "cancelled":
            if self.all_reduce is None and self.meter.pending:
                self.meter.read()  # a loss gone NaN since the last read fails the run, unsaved
            for h in self.hooks:
                h.on_cancel(self)
        for h in self.hooks:
            h.after_train(self, outcome)
        return outcome

    def _on_step(self, step: int, loss_dict: dict[str, torch.Tensor], loss: torch.Tensor,
                 images: int) -> bool:
        """After each step: fold in its losses, read them when due, run the hooks;
        True stops the epoch (with several ranks: any rank asked, seen at a read)."""
        self.step = step
        self.meter.add(step, loss_dict, loss)
        now = time.perf_counter()
        if step >= self.steps_per_epoch:
            due = True
        elif self.all_reduce is None:
            due = now - self._read_at >= self.sync_interval_s
        else:
            due = step % self.sync_every == 0
        self.synced = due
        any_stop = False
        if due:
            total, parts, any_stop = self.meter.read(self.stop_reason is not None)
            self.losses, self._read_at = (total, parts), now
        for h in self.hooks:
            h.after_step(self, images * self.world_size)
        if self.all_reduce is None:
            return self.stop_reason is not None or self.finish_requested
        # A hook's stop request is seen by all ranks at the next read; a time budget's
        # end comes at the same step on every rank (training.budget shares its plan).
        return any_stop or self.finish_requested

    def _any_rank(self, flag: bool) -> bool:
        if self.all_reduce is None:
            return flag
        return bool(self.all_reduce(torch.tensor([float(flag)], device=self.device)).item() > 0)
