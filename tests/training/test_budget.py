"""Training for a time: the plan (cosine to zero at the deadline, continuous across
re-plans, evaluation time kept), and a tiny run that ends by its clock."""
from __future__ import annotations

import math

import pytest

from training import budget as budget_mod
from training.budget import TimeBudget


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(budget_mod, "_now", c)
    return c


def test_the_cosine_reaches_zero_at_the_deadline(clock):
    b = TimeBudget(100.0, warmup_iters=0, warmup_factor=1.0)
    b.step_s, b.eval_s = 1.0, 4.0
    b.plan(0)
    # 100 s, minus 4 s for the last evaluation, at 1 s per step plus EVAL_SHARE
    steps = math.floor(96 / (1.0 * (1 + budget_mod.EVAL_SHARE)))
    assert b.progress(steps) == pytest.approx(1.0) and b.progress(steps - 1) < 1.0
    assert b.factor(0) == pytest.approx(1.0) and b.factor(steps) == pytest.approx(0.0)
    assert b.factor(steps // 2) == pytest.approx(0.5, abs=0.02)


def test_a_slower_machine_gets_fewer_steps_without_a_jump_in_the_rate(clock):
    b = TimeBudget(100.0, warmup_iters=0, warmup_factor=1.0)
    b.step_s, b.eval_s = 1.0, 0.0
    b.plan(0)
    clock.now += 20.0                      # 20 steps in 20 s
    before = b.factor(20)
    b.step_s = 2.0                         # then the machine gets busy
    b.plan(20)
    assert b.factor(20) == pytest.approx(before)   # the rate goes on from where it was
    left = math.floor(80 / (2.0 * (1 + budget_mod.EVAL_SHARE)))
    assert b.progress(20 + left) == pytest.approx(1.0) and b.progress(20 + left - 1) < 1.0


def test_out_of_time_ends_at_the_next_step(clock):
    b = TimeBudget(10.0, warmup_iters=0, warmup_factor=1.0)
    b.step_s, b.eval_s = 1.0, 5.0
    clock.now += 9.0
    b.plan(3)
    assert b.progress(4) == 1.0


def test_evaluations_take_about_their_share(clock):
    b = TimeBudget(600.0, warmup_iters=0, warmup_factor=1.0)
    b.eval_s = 3.0
    b.last_eval_end = clock.now
    clock.now += 3.0 / budget_mod.EVAL_SHARE - 1
    assert not b.eval_due(finishing=False)
    clock.now += 2
    assert b.eval_due(finishing=False)
    b.last_eval_end = clock.now
    assert b.eval_due(finishing=True)              # the last one always


def test_the_plan_survives_a_checkpoint(clock):
    b = TimeBudget(60.0, warmup_iters=10, warmup_factor=0.1)
    b.step_s, b.eval_s = 0.5, 2.0
    clock.now += 15.0
    b.plan(30)
    state = b.state_dict()
    clock.now += 500.0                             # the run was stopped for a while
    resumed = TimeBudget(60.0, warmup_iters=10, warmup_factor=0.1)
    resumed.load_state_dict(state)
    assert resumed.elapsed_s() == pytest.approx(15.0)   # time away does not count
    assert resumed.factor(40) == pytest.approx(b.factor(40))


def test_a_run_with_a_time_budget_ends_by_its_clock(small_coco, tmp_path):
    from tests.training.conftest import run_events
    from training.run import BUDGET_EPOCH_CAP

    rc, events = run_events(*small_coco, "fasterrcnn_mobilenet_v3_large_320_fpn", tmp_path,
                            ["time_budget=0.2", "epochs=1", "warmup_iters=0"])
    assert rc == 0 and events[-1]["event"] == "finished" and not events[-1]["early_stopped"]
    started = next(e for e in events if e["event"] == "started")
    # epochs=1 does not count: the clock ends the run (epochs only caps it)
    assert started["time_budget_s"] == 12.0 and started["epochs"] == BUDGET_EPOCH_CAP
    progress = [e for e in events if e["event"] == "progress"]
    assert all(0 <= e["progress"] <= 1 for e in progress)
    assert progress[-1]["eta_s"] <= progress[0]["eta_s"]
    lrs = [e["lr"] for e in progress]
    assert lrs[-1] < 0.25 * max(lrs)               # the cosine ran down to the end
    metrics = [e for e in events if e["event"] == "metrics"]
    assert metrics and metrics[-1]["epoch"] == events[-1]["epoch"] - 1   # the end is evaluated
    assert (tmp_path / "best.pt").exists() and (tmp_path / "last.pt").exists()
