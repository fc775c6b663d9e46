"""What a task brings to the one training-run skeleton (``training.run.run``), after
detectron2's ``DefaultTrainer.build_*`` methods: data, model, optimizer, batch
sampler, evaluator, checkpoint metadata and its event fields. Everything else
(devices, DDP, signals, resume, the loop, hooks, checkpoints, events) is shared.

Tasks: ``training.detection.recipe.DetectionRecipe`` ("detector"),
``training.embedding.recipe.EmbeddingRecipe`` ("embedder"); ``recipe_for(task)``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

# task -> "module:Class", imported on first use (the detector recipe never loads
# pytorch-metric-learning, nor the embedder recipe pycocotools)
RECIPES = {"detector": "training.detection.recipe:DetectionRecipe",
           "embedder": "training.embedding.recipe:EmbeddingRecipe"}


@dataclass
class RunData:
    """A task's dataset, ready for the skeleton."""

    source: Any                  # the task's parsed dataset (CocoData, EmbeddingData)
    class_names: list[str]
    train: Any                   # torch Dataset of augmented training samples
    train_indices: list[int]     # into the source's items
    val_indices: list[int]


class TaskRecipe:
    """Override every ``build_*``; the rest has defaults."""

    task: str = ""
    score_keys: tuple[str, ...] = ()  # compared in order to decide best.pt (EvalHook)

    def load_checkpoint(self, path: str | Path) -> dict[str, Any]:
        raise NotImplementedError

    def build_data(self, cfg: Any, hp: Any, device: Any) -> RunData:
        raise NotImplementedError

    def build_model(self, spec: Any, hp: Any, data: RunData) -> Any:
        raise NotImplementedError

    def build_optimizer(self, model: Any, hp: Any, world_size: int) -> Any:
        raise NotImplementedError

    def build_sampler(self, data: RunData, hp: Any, rank: int, world_size: int) -> Any:
        """A batch sampler with ``set_epoch(epoch, skip)`` (resume inside an epoch)."""
        raise NotImplementedError

    def build_evaluator(self, data: RunData, hp: Any, device: Any, amp: bool,
                        workers: int) -> Callable[[Any], dict[str, Any]]:
        """``evaluate(model) -> metrics``; asked for on rank 0 when there is validation
        (``workers``: loader processes, training.loading.eval_loader)."""
        raise NotImplementedError

    def checkpoint_meta(self, hp: Any, data: RunData) -> dict[str, Any]:
        """Fields saved in every checkpoint besides template, hparams and class_names."""
        return {}

    def started_fields(self, data: RunData) -> dict[str, Any]:
        """Task-specific fields of the ``started`` event."""
        return {}

    def finished_fields(self, trainer: Any, evaluated: bool) -> dict[str, Any]:
        """The best-metric fields of the ``finished`` event."""
        return {"best_map": trainer.best_map}


def recipe_for(task: str) -> TaskRecipe:
    if task not in RECIPES:
        raise ValueError(f"no training recipe for task {task!r}; known: {', '.join(RECIPES)}")
    module, name = RECIPES[task].split(":")
    return getattr(importlib.import_module(module), name)()
