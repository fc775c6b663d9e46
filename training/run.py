"""The one training-run skeleton for every task: devices, DDP, signals, resume,
schedule, loader, hooks and events; a task's recipe (training.recipe) builds its
data, model, optimizer, sampler and evaluator. ``run_train`` never exits the
process: it returns an exit code and ends with exactly one terminal event
(finished, cancelled or failed)."""
from __future__ import annotations

import math
import os
import random
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from training import hparams as hpmod
from training import weights as weightsmod
from training.budget import (BudgetHook, TimeBudget, broadcast_plan, evaluation_timer,
                             make_budget)
from training.checkpoint import set_rng_state
from training.events import Emitter
from training.fuse import fast_layout
from training.hooks import CheckpointHook, EarlyStopHook, EvalHook, ReporterHook
from training.loading import limit_threads, resolve_workers, train_loader
from training.recipe import TaskRecipe, recipe_for
from training.templates import get_template
from training.trainer import Hook, Trainer


BUDGET_EPOCH_CAP = 1000   # a time-budgeted run ends by its clock, long before this


@dataclass
class TrainConfig:
    coco: Path
    images: Path
    template: str
    run_dir: Path
    overrides: list[str] = field(default_factory=list)
    resume: bool = False
    device: str = "auto"
    progress_interval_s: float = 0.2
    extra_hooks: list[Hook] = field(default_factory=list)  # tests and embedding programs


def resolve_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """auto: CUDA, then Apple MPS, then CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank)
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def lr_lambda(hp: Any, total_iters: int) -> Callable[[int], float]:
    """Linear warm-up from ``warmup_factor``, then cosine / multistep / constant."""
    total = max(1, total_iters)

    def factor(it: int) -> float:
        warm = 1.0
        if it < hp.warmup_iters:
            alpha = it / hp.warmup_iters
            warm = hp.warmup_factor * (1 - alpha) + alpha
        progress = min(it / total, 1.0)
        if hp.schedule == "cosine":
            return warm * 0.5 * (1 + math.cos(math.pi * progress))
        if hp.schedule == "multistep":
            return warm * hp.gamma ** sum(progress >= m for m in hp.milestones)
        return warm
    return factor


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


_OWN_GROUP: set[bool] = set()  # non-empty while this module owns the process group


def _dist_setup() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, 0
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():  # a launcher such as Ray Train may have set it up
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        _OWN_GROUP.add(True)
    return dist.get_rank(), world, local_rank


def _sync_settings(device: torch.device, interval_s: float) -> dict[str, Any]:
    """How often the trainer reads losses from the device (training.meter): reading a
    CPU tensor costs nothing, so every step there; on an accelerator at the progress
    rate, and every 10 steps with several processes (they must read together)."""
    if device.type == "cpu":
        return {"sync_interval_s": 0.0, "sync_every": 1}
    return {"sync_interval_s": interval_s, "sync_every": 10}


def _ddp_all_reduce(world: int) -> Callable[[torch.Tensor], torch.Tensor]:
    import torch.distributed as dist

    def reduce(t: torch.Tensor) -> torch.Tensor:
        dist.all_reduce(t)  # sum; losses become means, the last entry stays a count
        t[:-1] /= world
        return t
    return reduce


def resume_hparams(cfg: "TrainConfig", spec, last: Path, load) -> tuple[Any, dict | None]:
    """Hyperparameters of this run and, when resuming, the saved state it goes on from.

    A resumed run keeps its saved hyperparameters; ``--set`` values still override them.
    """
    if not (cfg.resume and last.exists()):
        return hpmod.parse_overrides(spec.hparams(), cfg.overrides), None
    state = load(last)
    if state["template"] != cfg.template:
        raise ValueError(f"{last} was trained with template {state['template']!r}, "
                         f"not {cfg.template!r}")
    return hpmod.parse_overrides(hpmod.from_dict(spec.hparams, state["hparams"]),
                                 cfg.overrides), state


def restore_state(state: dict | None, model, optimizer, scheduler, scaler) -> tuple[int, int]:
    """Load a saved state into the training objects; returns (epoch, step) to start at."""
    if state is None:
        return 0, 0
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if state["scaler"]:
        scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"])
    return state["epoch"], state["step"]


def check_resume_classes(state: dict | None, last: Path, class_names: list[str]) -> None:
    """A run resumes only on the classes it was trained with."""
    if state is not None and state["class_names"] != class_names:
        raise ValueError(f"{last} knows classes {state['class_names']}, the dataset "
                         f"has {class_names}; start a new run instead of resuming")


def run_hooks(cfg: TrainConfig, emitter: Emitter, rank: int, evaluate_fn,
              patience: int, score_keys: tuple[str, ...],
              budget: TimeBudget | None = None) -> list[Hook]:
    """Progress, evaluation, checkpoints and early stopping, on rank 0 only: it alone
    evaluates, and the trainer shares its early-stop decision with the other ranks.
    With a time budget its evaluations are timed and spaced (training.budget)."""
    if rank != 0:
        return []
    due = None
    if budget is not None:
        evaluate_fn = evaluate_fn and evaluation_timer(budget)(evaluate_fn)
        due = lambda trainer: budget.eval_due(trainer.finish_requested)  # noqa: E731
    return [ReporterHook(emitter, cfg.progress_interval_s),
            EvalHook(evaluate_fn, emitter, score_keys=score_keys, due=due),
            CheckpointHook(cfg.run_dir, emitter), EarlyStopHook(patience)]


def build_model_reported(recipe: TaskRecipe, spec, hp, data, emitter: Emitter) -> tuple[Any, str | None]:
    """The task's model, with what its pretrained weights did (present, downloaded,
    missing, the start used) as ``weights`` events; returns (model, start)."""
    start: list[str] = []

    def report(r: dict[str, Any]) -> None:
        emitter.emit("weights", **r)
        if r.get("state") == "start":
            start.append(r["start"])
    with weightsmod.reporting(report):
        model = recipe.build_model(spec, hp, data)
    pretrained = str(getattr(hp, "pretrained", "none"))
    if start:
        return model, start[-1]
    return model, "none" if pretrained == "none" else ("file" if pretrained.endswith(
        (".pt", ".pth")) else None)


def restore_progress(trainer: Trainer, state: dict | None) -> None:
    """What the hooks need to go on as if never stopped: the best score so far (the
    next best.pt must beat it), the last metrics, the epochs without improvement."""
    if state is None:
        return
    best = state.get("best_score")
    trainer.best_score = [best] if isinstance(best, (int, float)) else best  # older: a number
    trainer.best_map = state.get("best_map")
    trainer.metrics = state.get("metrics") or None
    trainer.stale_epochs = int(state.get("stale_epochs") or 0)


def run_train(cfg: TrainConfig, emitter: Emitter | None = None) -> int:
    """Train any template: the recipe of its task (detector, embedder) supplies the
    task's parts. 0 when finished or cancelled (resumable), 1 when failed."""
    try:
        recipe = recipe_for(get_template(cfg.template).task)
    except Exception:  # an unknown template is a failed run, reported as such
        return report_failure(emitter or Emitter(), None)
    return run(cfg, recipe, emitter)


def run(cfg: TrainConfig, recipe: TaskRecipe, emitter: Emitter | None = None) -> int:
    """The one training-run skeleton; ``recipe`` builds what differs between tasks."""
    emitter = emitter or Emitter()
    world = 1
    trainer: Trainer | None = None
    stop: list[str] = []  # a signal before the trainer exists is kept for it
    restore = _install_signals(lambda reason: trainer.request_stop(reason) if trainer
                               else stop.append(reason))
    try:
        rank, world, local_rank = _dist_setup()
        emitter.enabled = emitter.enabled and rank == 0
        device = resolve_device(cfg.device, local_rank)
        limit_threads()
        spec = get_template(cfg.template)
        run_dir = Path(cfg.run_dir)
        last = run_dir / "last.pt"
        hp, state = resume_hparams(cfg, spec, last, recipe.load_checkpoint)
        seed_everything(hp.seed)
        budget = make_budget(hp, state)   # the time budget counts the set-up too

        data = recipe.build_data(cfg, hp, device)
        check_resume_classes(state, last, data.class_names)
        model, start = build_model_reported(recipe, spec, hp, data, emitter)
        model = fast_layout(model.to(device), device)
        optimizer = recipe.build_optimizer(model, hp, world)
        sampler = recipe.build_sampler(data, hp, rank, world)
        steps_per_epoch = len(sampler)
        # With a time budget epochs only caps the run; the budget's cosine ends it.
        epochs = hp.epochs if budget is None else BUDGET_EPOCH_CAP
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lr_lambda(hp, epochs * steps_per_epoch) if budget is None
            else (lambda it: budget.factor(it)))
        amp = hp.amp and device.type == "cuda"
        scaler = torch.amp.GradScaler("cuda", enabled=amp)
        start_epoch, start_step = restore_state(state, model, optimizer, scheduler, scaler)
        if world > 1:
            model = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=[local_rank] if device.type == "cuda" else None)

        workers = resolve_workers(hp.workers)
        loader = train_loader(data.train, sampler, workers, device, hp.seed)
        evaluate_fn = None
        if data.val_indices and rank == 0:
            evaluate_fn = recipe.build_evaluator(data, hp, device, amp, workers)
        hooks = run_hooks(cfg, emitter, rank, evaluate_fn, hp.patience, recipe.score_keys,
                          budget)
        if budget is not None:   # on every rank: they all follow one plan
            hooks.append(BudgetHook(budget, len(data.val_indices) if evaluate_fn else 0,
                                    hp.batch_size, broadcast_plan(world, device)))
        meta = {"template": cfg.template, "hparams": hpmod.to_dict(hp),
                "class_names": data.class_names, **recipe.checkpoint_meta(hp, data)}
        trainer = Trainer(
            model=model, optimizer=optimizer, scheduler=scheduler, scaler=scaler, loader=loader,
            batch_sampler=sampler, device=device, epochs=epochs,
            steps_per_epoch=steps_per_epoch, hooks=hooks + cfg.extra_hooks, amp=amp,
            grad_clip=hp.grad_clip, start_epoch=start_epoch, start_step=start_step, meta=meta,
            all_reduce=_ddp_all_reduce(world) if world > 1 else None, world_size=world,
            **_sync_settings(device, cfg.progress_interval_s))
        restore_progress(trainer, state)
        trainer.budget = budget
        if stop:
            trainer.request_stop(stop[0])
        emitter.emit("started", run_dir=str(run_dir), template=cfg.template, device=str(device),
                     world_size=world, epochs=epochs, steps_per_epoch=steps_per_epoch,
                     time_budget_s=budget.budget_s if budget is not None else None, start=start,
                     train_images=len(data.train_indices), val_images=len(data.val_indices),
                     class_names=data.class_names, hparams=hpmod.to_dict(hp),
                     resumed_from=str(last) if state is not None else None,
                     start_epoch=start_epoch, **recipe.started_fields(data))
        outcome = trainer.train()
        return report_outcome(emitter, trainer, outcome, last,
                              **recipe.finished_fields(trainer, evaluate_fn is not None))
    except Exception:  # every failure becomes an event; the caller decides the exit
        return report_failure(emitter, trainer)
    finally:
        teardown(restore, world)


def report_outcome(emitter: Emitter, trainer: Trainer, outcome: str, last: Path,
                   **best: Any) -> int:
    """The terminal event of a run that ended normally; ``best`` names its best metric."""
    best_path = last.parent / "best.pt"
    if outcome == "cancelled":
        emitter.emit("cancelled", epoch=trainer.epoch, step=trainer.step,
                     checkpoint=str(last), reason=trainer.stop_reason)
    else:
        emitter.emit("finished", epoch=trainer.epoch, **best,
                     best_path=str(best_path) if best_path.exists() else None,
                     last_path=str(last), elapsed_s=time.time() - trainer.started_at,
                     early_stopped=outcome == "early_stopped")
    return 0


def report_failure(emitter: Emitter, trainer: Trainer | None) -> int:
    """Called inside ``except``: the current exception becomes a ``failed`` event."""
    exc = sys.exc_info()[1]
    emitter.emit("failed", message=f"{type(exc).__name__}: {exc}",
                 traceback=traceback.format_exc(),
                 epoch=trainer.epoch if trainer is not None else None)
    return 1


def teardown(restore: dict[int, Any], world: int) -> None:
    """Give back the signal handlers and leave the process group we created (one made
    by a launcher, as Ray Train's, is the launcher's to end)."""
    for sig, handler in restore.items():
        signal.signal(sig, handler)
    if world > 1 and _OWN_GROUP:
        import torch.distributed as dist

        _OWN_GROUP.clear()
        if dist.is_initialized():
            dist.destroy_process_group()


def stop_signals() -> list[signal.Signals]:
    """SIGINT, SIGTERM and, on Windows, SIGBREAK (Ctrl-Break; a console's close)."""
    names = ("SIGINT", "SIGTERM", "SIGBREAK")
    return [getattr(signal, n) for n in names if hasattr(signal, n)]


def _install_signals(request_stop: Callable[[str], None]) -> dict[int, Any]:
    """Stop signals ask the trainer to stop after the current step (and save)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for sig in stop_signals():
        previous[sig] = signal.getsignal(sig)
        signal.signal(sig, lambda s, _f: request_stop(signal.Signals(s).name))
    return previous
