"""Embedding a project with a trained embedder run (Qt-free; torch only inside
``embed_project`` when no embedder is passed in, so the window can import this).

Every image, every sampled video frame (the frames a dataset export would write)
and every labelled box gets one vector per run, stored in the project
(``app/store/repos/embeddings.py``). Embedding is incremental: items already stored are
skipped, boxes moved since are redone, vectors of deleted boxes are dropped.
Work is written batch by batch, so a cancelled job keeps what it did.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from app.store.models import EmbeddingKey
from app.store.pictures import PictureReader
from app.tasks.torch_import import import_torch

KINDS = ("image", "frame", "box")


class EmbeddingError(RuntimeError):
    """A user-facing problem: not an embedder run, no checkpoint, unreadable media."""


def embedder_runs(project) -> list:
    return [r for r in project.runs.all() if r.task == "embedder"]


def run_checkpoint(project, run_id: int) -> Path:
    """best.pt of an embedder run, else last.pt."""
    run = project.runs.get(run_id)
    if run.task != "embedder":
        raise EmbeddingError(f"run {run_id} ({run.template}) is a {run.task}, not an embedder")
    folder = project.resolve(run.run_dir) if run.run_dir else None
    for name in ("best.pt", "last.pt"):
        if folder is not None and (folder / name).is_file():
            return folder / name
    raise EmbeddingError(f"run {run_id} has no checkpoint yet (train it first)")


def load_embedder(project, run_id: int, device: str = "cpu"):
    import_torch()
    from training.embedding.inference import Embedder

    return Embedder(run_checkpoint(project, run_id), device=device)


@dataclass
class Plan:
    """What is still to embed, grouped by the picture it comes from."""
    todo: dict[tuple[int, int], list[tuple[EmbeddingKey, str, Any]]] = field(
        default_factory=lambda: defaultdict(list))  # (media, frame) -> (key, stamp, box|None)
    stale: list[EmbeddingKey] = field(default_factory=list)   # vectors of vanished boxes
    done: int = 0                                             # already stored and current

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.todo.values())


def plan_embedding(project, run_id: int, kinds=KINDS) -> Plan:
    from app.store.sampling import dataset_frames

    have = project.embeddings.stamps(run_id)
    plan = Plan()
    wanted: set[EmbeddingKey] = set()

    def want(key: EmbeddingKey, stamp: str, box: Any = None) -> None:
        wanted.add(key)
        if have.get(key) == stamp:
            plan.done += 1
        else:
            plan.todo[(key.media_id, key.frame)].append((key, stamp, box))

    if "image" in kinds:
        for m in project.media.list("image"):
            want(EmbeddingKey("image", m.id), "")
    if "frame" in kinds:
        for media_id, frames in dataset_frames(project).items():
            for f in frames:
                want(EmbeddingKey("frame", media_id, f), "")
    if "box" in kinds:
        kinds_of = {m.id: m.kind for m in project.media.list()}
        for box_id, media_id, frame, rect, updated in project.boxes.embeddable():
            if kinds_of.get(media_id) == "image" and frame != 0:
                continue
            want(EmbeddingKey("box", media_id, frame, box_id), updated, rect)
    plan.stale = [k for k in have if k.kind == "box" and k not in wanted]
    return plan


def embed_project(project, run_id: int, embedder=None, *, kinds=KINDS, batch_size: int = 32,
                  device: str = "cpu", progress: Callable[[int, int], None] | None = None,
                  cancel: Callable[[], bool] | None = None) -> dict[str, int]:
    """Embed what is missing or stale. Returns counts: embedded, kept, removed,
    failed (unreadable pictures, skipped), cancelled (0/1)."""
    plan = plan_embedding(project, run_id, kinds)
    if plan.stale:
        project.embeddings.delete(run_id, plan.stale)
    counts = {"embedded": 0, "kept": plan.done, "removed": len(plan.stale), "failed": 0,
              "cancelled": 0}
    total = plan.total
    if not total:
        return counts
    if embedder is None:
        embedder = load_embedder(project, run_id, device)
    reader = PictureReader(project)   # a few videos open at a time, small caches
    pending: list[tuple[EmbeddingKey, str, np.ndarray]] = []

    def flush() -> None:
        if pending:
            vectors = embedder.embed([p for _, _, p in pending], batch_size)
            project.embeddings.put(run_id, [(k, s, v) for (k, s, _), v in zip(pending, vectors)])
            counts["embedded"] += len(pending)
            pending.clear()
            if progress is not None:
                progress(counts["embedded"] + counts["failed"], total)
    try:
        for (media_id, frame), items in plan.todo.items():
            if cancel is not None and cancel():
                counts["cancelled"] = 1
                break
            try:
                pixels = reader.read(media_id, frame)
            except Exception:  # a damaged file is listed elsewhere; it must not stop the job
                counts["failed"] += len(items)
                continue
            for key, stamp, box in items:
                crop = pixels if box is None else embedder.crops(pixels, [box])[0]
                pending.append((key, stamp, crop))
            if len(pending) >= batch_size:
                flush()
        flush()
    finally:
        reader.close()
    return counts
