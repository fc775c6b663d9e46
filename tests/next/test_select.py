"""Choosing a batch: uncertainty pool, k-centre diversity, random share, video grouping,
cold start."""
from __future__ import annotations

import numpy as np

from app.next.select import min_distances, prepare, select_queue


def clusters(n_per: int, centres: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, dim)) * 10
    return np.vstack([c[i] + rng.normal(scale=0.1, size=(n_per, dim)) for i in range(centres)])


def test_ranking_follows_uncertainty_when_features_do_not_matter():
    x = prepare(clusters(1, 30))           # 30 different pictures
    scores = np.linspace(0, 1, 30)
    picks = select_queue(x, x[:0], scores, [None] * 30, length=30, batch=10, pool_factor=1,
                         random_share=0)
    assert {p.index for p in picks[:10]} == set(range(20, 30))   # the 10 most unsure first
    assert {p.index for p in picks[10:20]} == set(range(10, 20))
    assert all(p.reason == "uncertain" for p in picks[:30])


def test_a_batch_is_not_ten_near_copies():
    # 40 near-copies of one scene, all very unsure, and 10 other scenes, a bit less unsure
    x = prepare(np.vstack([clusters(40, 1, seed=1), clusters(1, 10, seed=2)]))
    scores = np.r_[np.full(40, 0.9), np.full(10, 0.8)]
    picks = select_queue(x, x[:0], scores, [None] * 50, length=10, batch=10, pool_factor=5,
                         random_share=0)
    first = [p.index for p in picks[:10]]
    assert sum(i < 40 for i in first) <= 2            # by uncertainty alone it would be 10
    assert len({i for i in first if i >= 40}) >= 8


def test_labelled_pictures_seed_the_diversity():
    base = clusters(10, 2, seed=3)       # scene A = 0..9, scene B = 10..19
    x = prepare(base)
    scores = np.full(20, 0.5)
    seeds = x[:3]                        # scene A already labelled
    picks = select_queue(x, seeds, scores, [None] * 20, length=1, batch=1, pool_factor=20,
                         random_share=0)
    assert picks[0].index >= 10          # the first pick is from the scene nobody labelled


def test_a_share_of_random_picks_stays_in():
    x = prepare(clusters(1, 100))
    scores = np.linspace(1, 0, 100)
    picks = select_queue(x, x[:0], scores, [None] * 100, length=20, batch=20, pool_factor=1,
                         random_share=0.25, seed=4)
    assert sum(p.reason == "random" for p in picks[:20]) == 5
    assert len({p.index for p in picks}) == 100        # every candidate once, in the end


def test_cold_start_is_diversity_alone():
    x = prepare(np.vstack([clusters(30, 1, seed=5), clusters(1, 5, seed=6)]))
    picks = select_queue(x, x[:0], None, [None] * 35, length=6, batch=6, random_share=0)
    first = [p.index for p in picks[:6]]
    assert all(p.reason == "diverse" for p in picks[:6])
    assert sum(i < 30 for i in first) <= 2 and len({i for i in first if i >= 30}) >= 4


def test_frames_of_one_clip_are_grouped():
    # a 25 fps clip, one candidate a second for 60 s: its neighbouring frames look alike
    # and are all the most unsure; 20 images less so
    n_frames = 60
    frames = clusters(n_frames, 1, seed=7)
    frames += np.linspace(0, 3, n_frames)[:, None]          # a slow drift along the clip
    x = prepare(np.vstack([frames, clusters(1, 20, seed=8)]))
    scores = np.r_[np.full(n_frames, 0.95), np.full(20, 0.6)]
    videos = [(7, i * 25, 25.0) for i in range(n_frames)] + [None] * 20
    picks = select_queue(x, x[:0], scores, videos, length=20, batch=20, pool_factor=4,
                         random_share=0, gap_seconds=2.0, per_clip=4)
    batch = [p.index for p in picks[:20]]
    clip = sorted(videos[i][1] for i in batch if i < n_frames)
    assert 1 <= len(clip) <= 4                                    # at most per_clip frames
    assert all(b - a >= 50 for a, b in zip(clip, clip[1:]))      # none within 2 s of another
    assert sum(i >= n_frames for i in batch) >= 16                # the rest: other pictures


def test_min_distances():
    x = np.eye(3, dtype=np.float32)
    d = min_distances(x, x[:1])
    assert d[0] == 0 and np.allclose(d[1:], np.sqrt(2))
    assert np.isinf(min_distances(x, x[:0])).all()
