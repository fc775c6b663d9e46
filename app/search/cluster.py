"""Embedding a project on a Ray cluster: ``embed_project``'s plan, counts and stored
vectors, the embedder mapped over the pictures by Ray Data (app.cluster.batch)."""

from __future__ import annotations

import base64
from typing import Callable

import numpy as np

from app.cluster.batch import Progress, Staging, has_gpu, run_job
from app.search.embeddings import plan_embedding, run_checkpoint


def embed_on_cluster(project, run_id: int, address: str, *, kinds=("image", "frame", "box"),
                     workers: int = 2, batch_size: int = 32, progress: Progress | None = None,
                     cancel: Callable[[], bool] | None = None) -> dict[str, int]:
    """``embed_project`` on the cluster: the same plan, counts and stored vectors."""
    plan = plan_embedding(project, run_id, kinds)
    if plan.stale:
        project.embeddings.delete(run_id, plan.stale)
    counts = {"embedded": 0, "kept": plan.done, "removed": len(plan.stale), "failed": 0,
              "cancelled": 0}
    if not plan.total:
        return counts
    staging = Staging(project, run_checkpoint(project, run_id))
    keys = []
    try:
        for (media_id, frame), entries in plan.todo.items():
            try:
                for key, stamp, box in entries:
                    staging.add(media_id, frame, box)
                    keys.append((key, stamp))
            except Exception:   # an unreadable picture is skipped, as locally
                del staging.items[len(keys):]
                counts["failed"] += len(entries)
        spec = staging.spec("embed", workers, has_gpu(address), batch_size, [])
        pending = []

        def flush() -> None:
            if pending:
                project.embeddings.put(run_id, list(pending))
                counts["embedded"] += len(pending)
                pending.clear()

        def result(obj: dict) -> None:
            key, stamp = keys[obj["i"]]
            pending.append((key, stamp, np.frombuffer(base64.b64decode(obj["vector"]), np.float32)))
            if len(pending) >= batch_size:
                flush()

        def step(done: int, total: int) -> None:
            flush()
            if progress is not None:
                progress(done + counts["failed"], plan.total)
        counts["cancelled"] = int(run_job(address, spec, result, step, cancel))
        flush()
        return counts
    finally:
        staging.close()
