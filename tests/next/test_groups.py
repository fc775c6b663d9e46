"""Near-duplicate groups and folds for cross-checking."""
from __future__ import annotations

import numpy as np

from app.next.duplicates import groups_of, similar_pairs
from app.next.folds import fold_of


def test_near_duplicates_form_groups():
    rng = np.random.default_rng(0)
    scenes = rng.normal(size=(30, 64))
    x = np.vstack([scenes, scenes[3] + rng.normal(scale=0.1, size=64),      # 30 ~ 3
                   scenes[3] + rng.normal(scale=0.1, size=64),              # 31 ~ 3
                   scenes[7] + rng.normal(scale=0.1, size=64)])             # 32 ~ 7
    pairs = similar_pairs(x, 0.95)
    assert {(i, j) for i, j, _ in pairs} == {(3, 30), (3, 31), (30, 31), (7, 32)}
    assert groups_of(len(x), pairs) == [[3, 30, 31], [7, 32]]
    assert similar_pairs(x, 0.999) == []            # the threshold is the user's


def test_folds_are_balanced_and_keep_groups_together():
    images = [{"kestrel_group": "clip"} for _ in range(5)] + [{} for _ in range(15)]
    folds = fold_of(images, 4, seed=1)
    assert len({folds[i] for i in range(5)}) == 1
    sizes = [folds.count(f) for f in range(4)]
    assert sorted(sizes) == [5, 5, 5, 5]
