"""Losses summed on the device and read at the event rate (training.meter)."""
import math

import pytest
import torch

from training.engine import NonFiniteLoss
from training.meter import LossMeter


def _step(meter, step, a, b):
    parts = {"cls": torch.tensor(a), "box": torch.tensor(b)}
    meter.add(step, parts, parts["cls"] + parts["box"])


def test_reads_average_the_steps_since_the_last_read():
    meter = LossMeter()
    meter.start_epoch()
    _step(meter, 1, 1.0, 2.0)
    _step(meter, 2, 3.0, 4.0)
    total, parts, stop = meter.read()
    assert (total, parts, stop) == (5.0, {"cls": 2.0, "box": 3.0}, False)
    _step(meter, 3, 0.5, 0.5)
    assert meter.read(stop=True) == (1.0, {"cls": 0.5, "box": 0.5}, True)
    assert meter.epoch_loss == pytest.approx((3 + 7 + 1) / 3)


def test_ranks_are_averaged_and_any_stop_counts():
    def two_ranks(t):  # what _ddp_all_reduce does when the other rank has the same sums
        t = t * 2
        t[:-1] /= 2
        return t
    meter = LossMeter(two_ranks)
    meter.start_epoch()
    _step(meter, 1, 1.0, 1.0)
    assert meter.read(stop=True) == (2.0, {"cls": 1.0, "box": 1.0}, True)


def test_a_non_finite_loss_is_caught_at_the_next_read():
    meter = LossMeter()
    meter.start_epoch()
    _step(meter, 7, 1.0, 1.0)
    _step(meter, 8, math.nan, 1.0)
    with pytest.raises(NonFiniteLoss, match="steps 7-8"):
        meter.read()


def test_trainer_reads_at_most_at_the_interval_and_at_the_epochs_end(small_coco, tmp_path):
    """With an interval longer than the run, losses are read once per epoch (its last
    step) and the progress events come only with fresh losses."""
    from training.trainer import Hook

    from .conftest import run_events

    seen = []

    class Spy(Hook):
        def after_step(self, trainer, images):
            seen.append((trainer.step, trainer.synced))
            if trainer.step == 1:
                trainer.sync_interval_s = 3600.0

    rc, events = run_events(*small_coco, "fasterrcnn_mobilenet_v3_large_320_fpn", tmp_path,
                            ["val_fraction=0"], extra_hooks=[Spy()])
    assert rc == 0, events[-1]
    assert seen == [(1, True), (2, False), (3, True)]      # six images, batches of two
    progress = [e for e in events if e["event"] == "progress"]
    assert [e["step"] for e in progress] == [1, 3]
    assert all(math.isfinite(e["loss"]) for e in progress)
