"""Training for a time instead of a number of epochs (``time_budget`` minutes).

The learning rate follows a cosine from its warm-up to zero at the deadline. How many
steps fit is measured, not guessed: the seconds per step (a moving average, so a
machine that gets busier or quieter is followed) and the seconds one evaluation
takes (estimated from the validation size until one has run). The plan is made
again every few steps; each time the progress along the cosine goes on from where
it is, so the rate never jumps. The run ends when the cosine reaches zero, with a
last evaluation and checkpoint that the plan kept time for. Evaluations in between
are spaced so that they take about ``EVAL_SHARE`` of the time.

With several processes (DDP) rank 0 measures and its plan is broadcast, so every
rank follows the same rate and stops at the same step.
"""
from __future__ import annotations

import math
import os
import time
from typing import Any

from training.trainer import Hook, Trainer

EVAL_SHARE = 0.1       # evaluations in between take about this share of the time
REPLAN_EVERY = 10      # steps
FIRST_PLAN_AT = 4      # steps measured before the first plan (the first is a warm-up)
EMA = 0.2              # weight of the newest step time in the moving average
# One image evaluated costs about this share of one image trained (measured on CPU
# for the MobileNet detectors: no backward, but more proposals through the box head).
EVAL_PER_TRAIN_IMAGE = 0.6


def _now() -> float:
    return _CLOCK()


# KESTREL_BUDGET_CLOCK=cpu: the budget counts this process's CPU time instead of the
# wall clock. For benchmarks on a shared machine only: with OMP_NUM_THREADS=1 a run
# then gets the steps it would get on a quiet machine with one core for the model
# (and another for loading), whatever else runs beside it.
_CLOCK = (time.process_time if os.environ.get("KESTREL_BUDGET_CLOCK") == "cpu"
          else time.perf_counter)


class TimeBudget:
    """The plan: progress p (0..1 along the cosine) is ``p0 + (it - it0) * dp``."""

    def __init__(self, budget_s: float, warmup_iters: int, warmup_factor: float,
                 spent_s: float = 0.0):
        self.budget_s = float(budget_s)
        self.warmup_iters, self.warmup_factor = warmup_iters, warmup_factor
        self.started = _now() - spent_s
        self.p0, self.it0, self.dp = 0.0, 0, 0.0
        self.step_s: float | None = None     # moving average of seconds per step
        self.eval_s: float | None = None     # seconds of the last evaluation + checkpoint
        self.eval_estimate_s = 0.0
        self.last_eval_end = self.started

    # -- the learning-rate factor (LambdaLR) ---------------------------------------------
    def progress(self, it: int) -> float:
        return min(1.0, self.p0 + max(0, it - self.it0) * self.dp)

    def factor(self, it: int) -> float:
        warm = 1.0
        if it < self.warmup_iters:
            alpha = it / self.warmup_iters
            warm = self.warmup_factor * (1 - alpha) + alpha
        return warm * 0.5 * (1 + math.cos(math.pi * self.progress(it)))

    # -- time --------------------------------------------------------------------------
    def elapsed_s(self) -> float:
        return _now() - self.started

    def remaining_s(self) -> float:
        return max(0.0, self.budget_s - self.elapsed_s())

    def fraction(self) -> float:
        return min(1.0, self.elapsed_s() / self.budget_s) if self.budget_s > 0 else 1.0

    def final_eval_s(self) -> float:
        return self.eval_s if self.eval_s is not None else self.eval_estimate_s

    def plan(self, it: int) -> None:
        """Spread what is left of the cosine over the steps that fit in the time left."""
        p = self.progress(it)
        if self.step_s is None or self.step_s <= 0:
            return
        usable = self.remaining_s() - self.final_eval_s()
        steps = math.floor(usable / (self.step_s * (1 + EVAL_SHARE)))
        self.p0, self.it0 = p, it
        self.dp = 1.0 if steps < 1 else (1.0 - p) / steps

    def eval_due(self, finishing: bool) -> bool:
        """Evaluate now? Always at the end; in between when the time trained since the
        last evaluation is worth one (evaluations stay near EVAL_SHARE of the time)."""
        if finishing:
            return True
        since = _now() - self.last_eval_end
        return since * EVAL_SHARE >= self.final_eval_s()

    # -- checkpoints -------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"spent_s": self.elapsed_s(), "p0": self.p0, "it0": self.it0, "dp": self.dp,
                "step_s": self.step_s, "eval_s": self.eval_s}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.started = _now() - float(state.get("spent_s") or 0.0)
        self.last_eval_end = _now()
        self.p0, self.it0 = float(state.get("p0", 0.0)), int(state.get("it0", 0))
        self.dp = float(state.get("dp", 0.0))
        self.step_s, self.eval_s = state.get("step_s"), state.get("eval_s")


class BudgetHook(Hook):
    """Measures step and evaluation times, re-plans, and ends the run when the cosine
    reaches zero (``trainer.finish_requested``). Installed on every rank."""

    def __init__(self, budget: TimeBudget, val_images: int, batch_size: int,
                 broadcast=None):
        self.budget, self.broadcast = budget, broadcast
        self.val_images, self.batch_size = val_images, max(1, batch_size)

    def before_train(self, trainer: Trainer) -> None:
        self._prev: float | None = None
        self._prev_epoch = trainer.epoch
        self._steps = 0

    def _iteration(self, trainer: Trainer) -> int:
        return trainer.epoch * trainer.steps_per_epoch + trainer.step

    def after_step(self, trainer: Trainer, images: int) -> None:
        b, now = self.budget, _now()
        if trainer.epoch != self._prev_epoch:     # the gap held the epoch's evaluation
            self._prev_epoch, self._prev = trainer.epoch, None
        if self._prev is not None:
            dt = now - self._prev
            b.step_s = dt if b.step_s is None else (1 - EMA) * b.step_s + EMA * dt
            if b.eval_s is None:   # until an evaluation is timed: from the step time
                per_image = b.step_s / self.batch_size
                b.eval_estimate_s = self.val_images * per_image * EVAL_PER_TRAIN_IMAGE
        self._prev = now
        self._steps += 1
        it = self._iteration(trainer)
        due = self._steps == FIRST_PLAN_AT or (self._steps > FIRST_PLAN_AT
                                              and self._steps % REPLAN_EVERY == 0)
        # Out of time before a plan was due (a slow start, a tiny budget): plan now.
        # (With several ranks only at the steps they all plan at.)
        late = self.broadcast is None and b.step_s is not None and (
            b.remaining_s() <= b.final_eval_s() + b.step_s)
        if due or late:
            b.plan(it)
            self._share(trainer)
        if b.dp > 0 and b.progress(it) >= 1.0:
            trainer.finish_requested = True

    def after_epoch(self, trainer: Trainer) -> None:
        self._prev = None   # the next step's interval starts after this epoch's hooks

    def _share(self, trainer: Trainer) -> None:
        """Every rank follows rank 0's plan."""
        if self.broadcast is not None:
            b = self.budget
            b.p0, b.it0, b.dp = self.broadcast([b.p0, float(b.it0), b.dp])
            b.it0 = int(b.it0)


def evaluation_timer(budget: TimeBudget):
    """Wrap an ``evaluate(model)`` so that its duration feeds the plan."""
    def wrap(evaluate):
        def timed(model):
            t = _now()
            try:
                return evaluate(model)
            finally:
                budget.last_eval_end = _now()
                budget.eval_s = budget.last_eval_end - t
        return timed
    return wrap


def make_budget(hp: Any, state: dict | None) -> TimeBudget | None:
    """The run's time budget (``time_budget`` minutes; 0: none), counted from now, or
    from what a resumed run had already spent."""
    minutes = float(getattr(hp, "time_budget", 0.0) or 0.0)
    if minutes <= 0:
        return None
    budget = TimeBudget(minutes * 60.0, hp.warmup_iters, hp.warmup_factor)
    if state is not None and state.get("budget"):
        budget.load_state_dict(state["budget"])
    return budget


def broadcast_plan(world: int, device: Any):
    """Rank 0's budget plan to every rank (None with one process)."""
    if world <= 1:
        return None
    import torch
    import torch.distributed as dist

    def share(values: list[float]) -> list[float]:
        t = torch.tensor(values, dtype=torch.float64, device=device)
        dist.broadcast(t, 0)
        return t.tolist()
    return share
