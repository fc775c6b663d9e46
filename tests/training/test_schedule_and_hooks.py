"""Learning-rate schedule and early stopping, without a model."""
import math
from types import SimpleNamespace

import pytest

from training.hooks import EarlyStopHook
from training.hparams import DetectorHParams, parse_overrides
from training.run import lr_lambda


def test_warmup_then_cosine():
    hp = parse_overrides(DetectorHParams(), ["warmup_iters=10", "warmup_factor=0.1"])
    f = lr_lambda(hp, 100)
    assert f(0) == pytest.approx(0.1)
    assert f(5) == pytest.approx(0.55 * 0.5 * (1 + math.cos(0.05 * math.pi)))  # half warmed
    assert f(10) < 1.0 and f(10) > f(50) > f(99) >= 0.0
    assert f(100) == pytest.approx(0.0, abs=1e-12)


def test_multistep_and_constant():
    hp = parse_overrides(DetectorHParams(), ["warmup_iters=0", "schedule=multistep",
                                             "milestones=0.5,0.75", "gamma=0.1"])
    f = lr_lambda(hp, 100)
    assert [f(0), f(49), f(50), f(80)] == pytest.approx([1.0, 1.0, 0.1, 0.01])
    const = lr_lambda(parse_overrides(hp, ["schedule=constant"]), 100)
    assert const(0) == const(99) == 1.0


def test_early_stop_after_patience():
    hook, trainer = EarlyStopHook(2), SimpleNamespace(improved=True, early_stop=False)
    for improved, stop in [(True, False), (False, False), (True, False), (False, False),
                           (False, True)]:
        trainer.improved = improved
        hook.after_epoch(trainer)
        assert trainer.early_stop is stop
    off = EarlyStopHook(0)
    trainer = SimpleNamespace(improved=False, early_stop=False)
    for _ in range(5):
        off.after_epoch(trainer)
    assert trainer.early_stop is False
