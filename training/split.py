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


def dataset_split(images: list[dict], val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Train and validation indices of a COCO ``images`` list.

    The dataset's own split wins when it has validation images: images marked
    ``"kestrel_split": "val"`` validate, ``"test"`` ones are held out of both, the rest
    train. Otherwise the seeded random split, with images of one ``kestrel_group`` (a
    video's frames) kept on one side; without groups it is exactly ``split_indices``.
    """
    splits = [im.get("kestrel_split") for im in images]
    if "val" in splits:
        return ([i for i, s in enumerate(splits) if s not in ("val", "test")],
                [i for i, s in enumerate(splits) if s == "val"])
    keep = [i for i, s in enumerate(splits) if s != "test"]
    groups = [images[i].get("kestrel_group") for i in keep]
    if not any(groups):
        train, val = split_indices(len(keep), val_fraction, seed)
        return [keep[i] for i in train], [keep[i] for i in val]
    units: dict[object, list[int]] = {}
    for i, g in zip(keep, groups):
        units.setdefault(("group", g) if g else ("image", i), []).append(i)
    order = list(units.values())
    random.Random(seed).shuffle(order)
    n_val = val_count(len(keep), val_fraction)
    val: list[int] = []
    for unit in order[:-1] if len(order) > 1 else []:   # never every unit
        if len(val) >= n_val:
            break
        val += unit
    chosen = set(val)
    return [i for i in keep if i not in chosen], sorted(val)
