"""Data loaders and CPU threads sized from the cores this process may actually use
(``os.sched_getaffinity``: a container or ``taskset`` often allows fewer than
``os.cpu_count()`` says), shared by training and evaluation of every task."""
from __future__ import annotations

import os
from typing import Any

import torch

from training.data import collate, worker_init

MAX_AUTO_WORKERS = 8


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def local_world_size() -> int:
    """Processes sharing this machine's cores (torchrun sets LOCAL_WORLD_SIZE)."""
    return max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))


def resolve_workers(requested: int) -> int:
    """``requested`` if >= 0; else one worker per spare core of this process's share
    (one core stays with the training threads), at most MAX_AUTO_WORKERS."""
    if requested >= 0:
        return requested
    cores = available_cores() // local_world_size()
    return 0 if cores <= 1 else min(cores - 1, MAX_AUTO_WORKERS)


def limit_threads() -> None:
    """Never more compute threads than this process's share of the allowed cores
    (torch counts the machine's cores); an explicit OMP_NUM_THREADS wins."""
    if "OMP_NUM_THREADS" in os.environ:
        return
    share = max(1, available_cores() // local_world_size())
    if torch.get_num_threads() > share:
        torch.set_num_threads(share)


def train_loader(dataset: Any, batch_sampler: Any, workers: int, device: torch.device,
                 seed: int) -> torch.utils.data.DataLoader:
    """Persistent workers that prefetch; pinned memory for non-blocking copies on CUDA."""
    extra = {"persistent_workers": True, "prefetch_factor": 4} if workers > 0 else {}
    return torch.utils.data.DataLoader(
        dataset, batch_sampler=batch_sampler, num_workers=workers, collate_fn=collate,
        pin_memory=device.type == "cuda", worker_init_fn=worker_init,
        generator=torch.Generator().manual_seed(seed), **extra)


def eval_loader(dataset: Any, batch_size: int, workers: int, device: torch.device,
                seed: int = 0) -> torch.utils.data.DataLoader:
    """In order; its workers persist, so evaluating every epoch does not start new
    processes each time."""
    extra = {"persistent_workers": True} if workers > 0 else {}
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, num_workers=workers, collate_fn=collate,
        pin_memory=device.type == "cuda", worker_init_fn=worker_init,
        generator=torch.Generator().manual_seed(seed), **extra)
