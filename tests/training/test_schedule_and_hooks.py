"""Learning-rate schedule and early stopping, without a model."""
import math
from types import SimpleNamespace

import pytest

from training.hooks import EarlyStopHook, EvalHook
from training.hparams import DetectorHParams, parse_overrides
from training.run import lr_lambda, restore_progress


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


def _trainer(**kw):
    base = dict(metrics=None, epoch_loss=1.0, best_score=None, best_map=None, stale_epochs=0,
                improved=False, early_stop=False, unwrapped=None, epoch=1)
    return SimpleNamespace(**{**base, **kw})


def _epochs(trainer, hooks, results):
    """Run the hooks' after_epoch once per metrics dict; (improved, early_stop) each time."""
    seen = []
    for metrics in results:
        hooks[0].evaluate_fn = lambda _m, metrics=metrics: dict(metrics)
        for hook in hooks:
            hook.after_epoch(trainer)
        seen.append((trainer.improved, trainer.early_stop))
    return seen


def test_early_stop_after_patience():
    trainer = _trainer()
    hooks = [EvalHook(None, None), EarlyStopHook(2)]
    maps = [0.1, 0.1, 0.2, 0.15, 0.2]
    assert _epochs(trainer, hooks, [{"map": m, "map50": 0.5} for m in maps]) == [
        (True, False), (False, False), (True, False), (False, False), (False, True)]
    off = _trainer()
    assert _epochs(off, [EvalHook(None, None), EarlyStopHook(0)],
                   [{"map": 0.1, "map50": 0.5}] * 5)[-1] == (False, False)


def test_ties_are_broken_by_the_next_metric():
    # Embedders: precision@1 saturates at 1.0 on easy data; MAP@R still tells epochs apart.
    trainer = _trainer()
    hook = EvalHook(None, None, score_keys=("precision_at_1", "map_at_r"))
    seen = _epochs(trainer, [hook], [{"precision_at_1": 1.0, "map_at_r": r} for r in (0.5, 0.7, 0.6)])
    assert [improved for improved, _ in seen] == [True, True, False]
    assert trainer.best_score == [1.0, 0.7] and trainer.stale_epochs == 1


def test_patience_and_best_score_survive_a_resume():
    first = _trainer()
    hooks = [EvalHook(None, None), EarlyStopHook(3)]
    _epochs(first, hooks, [{"map": 0.3, "map50": 0.5}, {"map": 0.2, "map50": 0.5},
                           {"map": 0.2, "map50": 0.5}])
    state = {"best_score": first.best_score, "stale_epochs": first.stale_epochs,
             "best_map": first.best_map, "metrics": first.metrics}
    assert state["stale_epochs"] == 2
    resumed = _trainer()
    restore_progress(resumed, state)
    assert _epochs(resumed, [EvalHook(None, None), EarlyStopHook(3)],
                   [{"map": 0.25, "map50": 0.9}]) == [(False, True)]   # 3rd stale epoch
    legacy = _trainer()
    restore_progress(legacy, {"best_score": 0.4})           # checkpoints before lists
    assert legacy.best_score == [0.4] and legacy.stale_epochs == 0
