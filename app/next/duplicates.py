"""Near-duplicate images from feature vectors (numpy only; vectors from the store).

Two images are near-duplicates when the cosine similarity of their centred features
is at least the threshold (centred once there are enough images); groups are the connected sets (union-find), so a burst of
five photos of one scene is one group. Kept on one side of every training split
(``project.next.set_groups``; the export writes them as ``kestrel_group``), a group
cannot put a photo in training and its twin in validation, where it would flatter
the model's score.
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 0.95
CENTRE_FROM = 20


def similar_pairs(features: np.ndarray, threshold: float = THRESHOLD,
                  chunk: int = 2048) -> list[tuple[int, int, float]]:
    """(i, j, similarity), i < j, of rows at least ``threshold`` alike."""
    x = np.asarray(features, np.float32)
    if len(x) < 2:
        return []
    if len(x) >= CENTRE_FROM:    # centring needs enough images to know the average
        x = x - x.mean(axis=0, keepdims=True)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)
    out = []
    for start in range(0, len(x), chunk):
        sims = x[start:start + chunk] @ x.T
        rows, cols = np.nonzero(sims >= threshold)
        for r, c in zip(rows, cols):
            i = start + int(r)
            if i < c:
                out.append((i, int(c), float(sims[r, c])))
    return out


def groups_of(n: int, pairs) -> list[list[int]]:
    """Connected groups (of two or more) of ``n`` items joined by ``pairs``."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, *_ in pairs:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    out: dict[int, list[int]] = {}
    for i in range(n):
        out.setdefault(root(i), []).append(i)
    return sorted((g for g in out.values() if len(g) > 1), key=lambda g: (-len(g), g[0]))


def find_duplicates(project, source: str, threshold: float = THRESHOLD) -> list[list[int]]:
    """Groups of media ids of images that look alike (images only: a video's frames
    are kept together by the split already)."""
    from app.next.scoring import load_features

    keys, matrix = load_features(project, source)
    images = set(project.media.ids_of_kind("image"))
    rows = [i for i, (m, f) in enumerate(keys) if m in images and f == 0]
    if len(rows) < 2:
        return []
    ids = [keys[i][0] for i in rows]
    return [[ids[i] for i in g] for g in groups_of(len(rows), similar_pairs(matrix[rows],
                                                                               threshold))]
