"""Losses summed on the device and read only at the event rate.

Reading a CUDA tensor on the host (``.item()``, ``.tolist()``) waits for the GPU to
finish every queued kernel; once per step, that stalls the GPU while the host
prepares the next batch. Steps add their losses to a small tensor on the device;
``read`` (one sync) averages what accumulated since the previous read, over the
ranks too, and checks that the loss is finite.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from training.engine import NonFiniteLoss


class LossMeter:
    def __init__(self, all_reduce: Callable[[torch.Tensor], torch.Tensor] | None = None):
        self.all_reduce = all_reduce
        self.names: list[str] = []
        self._sums: torch.Tensor | None = None   # [total, *parts] since the last read
        self._steps = 0
        self._first = 0                          # first step of the unread window
        self.epoch_total, self.epoch_steps = 0.0, 0

    def start_epoch(self) -> None:
        self._sums, self._steps = None, 0
        self.epoch_total, self.epoch_steps = 0.0, 0

    @property
    def epoch_loss(self) -> float:
        """Mean total loss of the epoch's steps read so far."""
        return self.epoch_total / max(1, self.epoch_steps)

    def add(self, step: int, loss_dict: dict[str, torch.Tensor], loss: torch.Tensor) -> None:
        """One step's losses; no host-device sync."""
        names = list(loss_dict)
        if self._sums is not None and names != self.names:  # a model changed its parts
            self.read()
        if self._sums is None:
            self.names, self._first = names, step
        stats = torch.stack([loss.detach().float().sum()]
                            + [v.detach().float().sum() for v in loss_dict.values()])
        self._sums = stats if self._sums is None else self._sums + stats
        self._steps += 1

    def read(self, stop: bool = False) -> tuple[float, dict[str, float], bool]:
        """(mean total, mean parts) since the last read, and whether any rank asked to
        stop (``stop`` is this rank's wish). With several ranks every rank must call it
        at the same step. Raises NonFiniteLoss when the loss is NaN or infinite."""
        sums = self._sums if self._sums is not None else torch.zeros(1 + len(self.names))
        stats = torch.cat([sums, torch.tensor([float(stop)], device=sums.device)])
        if self.all_reduce is not None:
            stats = self.all_reduce(stats)   # sums -> means over ranks; the flag: a count
        values = stats.tolist()              # the one host-device sync
        done, first = self._steps, self._first
        steps = max(1, done)
        self._sums, self._steps = None, 0
        total = values[0] / steps
        parts = {n: v / steps for n, v in zip(self.names, values[1:-1])}
        if not math.isfinite(total):
            where = f"step {first}" if steps == 1 else f"steps {first}-{first + steps - 1}"
            raise NonFiniteLoss(f"loss is {total} at {where}; parts {parts}. "
                                "Try a lower learning rate or more warm-up.")
        self.epoch_total += values[0]
        self.epoch_steps += done
        return total, parts, values[-1] > 0
