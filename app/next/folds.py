"""Cross-checking labels with k folds (Qt-free, torch-free): k runs of the same
template and settings, each trained with one fold of the labelled pictures held out
as its validation split, so that every labelled picture is predicted by a model that
never saw its labels (``app.next.suspects``).

A fold run is an ordinary run (``app.runs.records.prepare_run``: same export, same
trainer); only its exported COCO file is rewritten before the trainer starts, every
image marked ``kestrel_split`` "val" (its fold) or "train" (the rest). Folds follow
the units a split keeps together (a video's frames, near-duplicate groups), so no
picture's twin is trained on while it is checked.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from app.runs.records import DATASET_DIR
from app.store.exporter import COCO_FILE


def fold_of(images: list[dict], k: int, seed: int = 0) -> list[int]:
    """The fold (0..k-1) of every COCO image; units of one ``kestrel_group`` together."""
    units: dict[object, list[int]] = {}
    for i, im in enumerate(images):
        g = im.get("kestrel_group")
        units.setdefault(("group", g) if g else ("image", i), []).append(i)
    order = list(units.values())
    random.Random(seed).shuffle(order)
    order.sort(key=len, reverse=True)        # big units first, then fill the lightest fold
    sizes = [0] * k
    out = [0] * len(images)
    for unit in order:
        f = min(range(k), key=lambda j: (sizes[j], j))
        sizes[f] += len(unit)
        for i in unit:
            out[i] = f
    return out


def mark_fold(run_dir: Path, fold: int, k: int, seed: int = 0) -> tuple[int, int]:
    """Rewrite a prepared run's COCO file: fold ``fold`` validates, the rest trains.
    Returns (train images, validation images)."""
    path = Path(run_dir) / DATASET_DIR / COCO_FILE
    doc = json.loads(path.read_text(encoding="utf-8"))
    folds = fold_of(doc["images"], k, seed)
    for im, f in zip(doc["images"], folds):
        im["kestrel_split"] = "val" if f == fold else "train"
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    tmp.replace(path)
    n_val = sum(1 for f in folds if f == fold)
    return len(folds) - n_val, n_val


def prepare_fold(project, parent_run: int, fold: int, k: int, *, device: str | None = None,
                 seed: int = 0):
    """Record and export fold ``fold`` of ``k`` of a run's template and settings;
    returns the ``RunLaunch`` (start it as any run)."""
    from app.runs.records import prepare_run

    parent = project.runs.get(parent_run)
    launch = prepare_run(project, parent.template, dict(parent.hyperparameters), task=parent.task,
                         device=device)
    customise_fold(project, launch.run_id, launch.run_dir, parent_run, fold, k, seed)
    return launch


def customise_fold(project, run_id: int, run_dir: Path, parent_run: int, fold: int, k: int,
                   seed: int = 0) -> None:
    train, val = mark_fold(run_dir, fold, k, seed)
    run = project.runs.get(run_id)
    project.runs.update(run_id, name=f"#{run_id} fold {fold + 1}/{k} of #{parent_run}",
                        dataset={**run.dataset, "fold_of": parent_run, "fold": fold, "folds": k,
                                 "fold_train": train, "fold_val": val})


def folds_of(project, parent_run: int) -> list:
    """The finished fold runs of a cross-check of ``parent_run``."""
    return [r for r in project.runs.all() if (r.dataset or {}).get("fold_of") == parent_run]
