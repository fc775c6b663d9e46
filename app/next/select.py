"""Choosing what to label next from scores and features (numpy only).

The queue is built a batch at a time. For each batch: the ``pool_factor`` x batch
most uncertain candidates not chosen yet are the pool; k-centre greedy picks from it
the ones farthest from everything labelled or chosen so far (the labelled pictures
seed it), so a batch is not ten near-copies; a share of the batch is drawn at random
from all the rest, so the queue keeps exploring what the model is sure of and may be
wrong about. Frames of one video are grouped: after a frame is chosen, the frames of
that clip within ``gap_seconds`` of it wait for a later batch, and a batch takes at
most ``per_clip`` frames of one clip. With no scores (no model yet: cold start) the
pool is every candidate, diversity alone. After ``length`` items the rest follow by
score (cold start: by distance from what is labelled).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROJECT_DIMS = 128        # features are randomly projected down to this many dimensions
MAX_SEEDS = 5000          # labelled pictures sampled as k-centre seeds in huge projects


@dataclass(frozen=True)
class Pick:
    index: int            # into the candidates
    reason: str           # "uncertain", "diverse" (cold start), "random", "by score"


def prepare(features: np.ndarray, seed: int = 0) -> np.ndarray:
    """Centred, projected to at most PROJECT_DIMS, unit-length rows: Euclidean
    distance then follows the angle between features, and pooled activations (all
    positive, all alike) are told apart by how they differ from the average."""
    x = np.asarray(features, np.float32)
    if not len(x):
        return x
    x = x - x.mean(axis=0, keepdims=True)
    if x.shape[1] > PROJECT_DIMS:
        rng = np.random.default_rng(seed)
        x = x @ (rng.standard_normal((x.shape[1], PROJECT_DIMS)).astype(np.float32)
                 / np.sqrt(PROJECT_DIMS))
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)


def min_distances(x: np.ndarray, seeds: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Distance of every row of ``x`` to its nearest seed (inf without seeds)."""
    out = np.full(len(x), np.inf, np.float32)
    if not len(seeds) or not len(x):
        return out
    for i in range(0, len(seeds), chunk):
        s = seeds[i:i + chunk]
        d2 = (x * x).sum(1)[:, None] + (s * s).sum(1)[None, :] - 2 * x @ s.T
        out = np.minimum(out, np.sqrt(np.clip(d2, 0, None)).min(axis=1))
    return out


def select_queue(features: np.ndarray, seed_features: np.ndarray, scores: np.ndarray | None,
                 videos: list[tuple[int, int, float] | None], *, length: int = 200,
                 batch: int = 20, pool_factor: int = 4, random_share: float = 0.2,
                 gap_seconds: float = 2.0, per_clip: int | None = None,
                 seed: int = 0) -> list[Pick]:
    """Order candidates (rows of ``features``) for labelling.

    ``seed_features``: the labelled pictures' features (already ``prepare``d in the same
    space as ``features``). ``scores``: uncertainty per candidate, None at cold start.
    ``videos``: per candidate (media id, frame, fps) for a video frame, None for an image.
    Returns every candidate once: the first ``length`` by batches, the rest by score.
    """
    n = len(features)
    rng = np.random.default_rng(seed)
    if len(seed_features) > MAX_SEEDS:
        seed_features = seed_features[rng.choice(len(seed_features), MAX_SEEDS, replace=False)]
    mind = min_distances(features, seed_features)
    remaining = np.ones(n, bool)
    picks: list[Pick] = []
    per_clip = per_clip or max(1, batch // 4)
    media = np.array([v[0] if v else -1 for v in videos], np.int64)
    frames = np.array([v[1] if v else 0 for v in videos], np.int64)
    gaps = np.array([max(1, round(gap_seconds * v[2])) if v else 0 for v in videos], np.int64)
    order_by_score = (np.argsort(-scores, kind="stable") if scores is not None
                      else np.arange(n))
    while len(picks) < min(length, n) and remaining.any():
        b = min(batch, length - len(picks), int(remaining.sum()))
        n_random = int(round(b * random_share)) if b > 1 else 0
        blocked = np.zeros(n, bool)
        taken: dict[int, int] = {}
        chosen = _kcenter(features, mind, remaining, blocked, taken, order_by_score,
                          b - n_random, pool_factor, scores is None, media, frames, gaps,
                          per_clip)
        picks += [Pick(i, "uncertain" if scores is not None else "diverse") for i in chosen]
        free = np.flatnonzero(remaining & ~blocked)
        if n_random and len(free):
            extra = rng.choice(free, min(n_random, len(free)), replace=False)
            for i in extra:
                _take(int(i), features, mind, remaining, blocked, taken, media, frames, gaps)
            picks += [Pick(int(i), "random") for i in extra]
        if not chosen and not n_random:
            break
    rest = np.flatnonzero(remaining)
    if scores is not None:
        rest = rest[np.argsort(-scores[rest], kind="stable")]
    else:
        rest = rest[np.argsort(-np.where(np.isinf(mind[rest]), 0, mind[rest]), kind="stable")]
    return picks + [Pick(int(i), "by score" if scores is not None else "diverse") for i in rest]


def _kcenter(x, mind, remaining, blocked, taken, order_by_score, k, pool_factor, cold,
             media, frames, gaps, per_clip) -> list[int]:
    """k-centre greedy within the pool: the candidate farthest from everything labelled
    or chosen, k times (video neighbours blocked as frames are chosen)."""
    if k <= 0:
        return []
    live = order_by_score[remaining[order_by_score]]
    pool = live if cold else live[:max(k, pool_factor * k)]
    chosen: list[int] = []
    for _ in range(k):
        ok = pool[~blocked[pool]]
        ok = ok[[taken.get(int(media[i]), 0) < per_clip for i in ok]] if len(ok) else ok
        if not len(ok):
            break
        d = mind[ok]
        if np.isinf(d).all():
            # nothing labelled or chosen yet: the most uncertain, or (cold start) the
            # most typical picture, the one nearest the average
            i = int(ok[0]) if not cold else int(ok[np.argmin(np.linalg.norm(
                x[ok] - x[ok].mean(axis=0), axis=1))])
        else:
            i = int(ok[np.argmax(np.where(np.isinf(d), -1, d))])
        _take(i, x, mind, remaining, blocked, taken, media, frames, gaps)
        chosen.append(i)
    return chosen


def _take(i, x, mind, remaining, blocked, taken, media, frames, gaps) -> None:
    remaining[i] = False
    blocked[i] = True
    d = np.sqrt(np.clip(((x - x[i]) ** 2).sum(axis=1), 0, None))
    np.minimum(mind, d, out=mind)
    if media[i] >= 0:
        taken[int(media[i])] = taken.get(int(media[i]), 0) + 1
        near = (media == media[i]) & (np.abs(frames - frames[i]) < gaps[i])
        blocked |= near
