"""The deterministic train/val split (torch-free, so the app can recompute it)."""

from __future__ import annotations

import random


def val_count(n: int, val_fraction: float) -> int:
    """How many of ``n`` images are held out: at least one and never all, when asked."""
    n_val = int(round(n * val_fraction))
    if val_fraction > 0 and n > 1:
        n_val = min(max(n_val, 1), n - 1)
    return n_val


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Deterministic train/val split from the seed (same on every machine and rank)."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_val = val_count(n, val_fraction)
    return sorted(order[n_val:]), sorted(order[:n_val])
