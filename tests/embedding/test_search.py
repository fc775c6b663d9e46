"""Embedding a project (incremental), exact search, the classifier on top."""
from __future__ import annotations

import numpy as np
import pytest

from app.search.embeddings import embed_project, plan_embedding
from app.search.index import EmbeddingIndex, TagClassifier, classify_untagged, parse_query, query_vector
from app.store.models import EmbeddingKey
from tests.embedding.conftest import make_project


@pytest.fixture
def project(tmp_path, trained_embedder):
    p, run_id, truth = make_project(tmp_path, trained_embedder)
    yield p, run_id, truth
    p.close()


def test_embed_project_then_incremental(project, tmp_path):
    p, run_id, truth = project
    seen = []
    counts = embed_project(p, run_id, batch_size=8, progress=lambda d, t: seen.append((d, t)))
    n = len(truth)
    assert counts["embedded"] == 2 * n and counts["failed"] == 0  # images + boxes
    assert seen[-1] == (2 * n, 2 * n)
    keys, vectors = p.embeddings.load(run_id)
    assert vectors.shape == (2 * n, 16)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    # nothing new: nothing embedded
    assert embed_project(p, run_id)["embedded"] == 0
    # one new image, one moved box, one deleted box: only those change
    import shutil
    new = tmp_path / "new.png"
    shutil.copy(p.media.path(next(iter(truth))), new)
    new_id = p.media.import_files([new]).added[0]
    box = p.boxes.of(next(iter(truth)))[0]
    p.boxes.update(box.id, x1=box.x1 + 1)
    gone = p.boxes.of(list(truth)[1])[0]
    p.boxes.delete([gone.id])
    assert plan_embedding(p, run_id).total == 2
    counts = embed_project(p, run_id)
    assert (counts["embedded"], counts["removed"], counts["kept"]) == (2, 1, 2 * n - 2)
    assert p.embeddings.get(run_id, EmbeddingKey("image", new_id)) is not None


def test_cancel_keeps_done_batches(project):
    p, run_id, truth = project
    calls = iter([False, False, True])
    counts = embed_project(p, run_id, kinds=("image",), batch_size=1,
                           cancel=lambda: next(calls, True))
    assert counts["cancelled"] == 1 and counts["embedded"] == 2
    assert len(p.embeddings.load(run_id)[0]) == 2


def test_search_returns_the_query_first(project):
    p, run_id, truth = project
    embed_project(p, run_id)
    index = EmbeddingIndex.from_store(p, run_id, ["image"], use_faiss=False)
    for media_id in list(truth)[:4]:
        vec, key = query_vector(p, run_id, parse_query(str(media_id)))
        hits = index.search(vec, 5)
        assert hits[0].key == key and hits[0].score == pytest.approx(1.0, abs=1e-5)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    box = p.boxes.of(list(truth)[2])[0]
    vec, key = query_vector(p, run_id, parse_query(f"box:{box.id}"))
    assert EmbeddingIndex.from_store(p, run_id, ["box"]).search(vec, 1)[0].key == key
    # a file is embedded on the fly and finds its own picture
    from app.search.embeddings import load_embedder
    vec, key = query_vector(p, run_id, parse_query(str(p.media.path(list(truth)[5]))),
                            lambda: load_embedder(p, run_id))
    assert key is None and index.search(vec, 1)[0].key.media_id == list(truth)[5]


def test_exact_topk_matches_full_sort():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(1000, 32)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    keys = [EmbeddingKey("image", i) for i in range(1000)]
    hits = EmbeddingIndex(keys, v, use_faiss=False).search(v[7], 10)
    expected = np.argsort(-(v @ v[7]))[:10]
    assert [h.key.media_id for h in hits] == list(expected)
    assert EmbeddingIndex([], np.zeros((0, 0), np.float32)).search(v[0], 10) == []


def test_classifier_learns_a_separable_case():
    rng = np.random.default_rng(1)
    centres = np.eye(3, 8, dtype=np.float32) * 3
    x = np.concatenate([c + rng.normal(0, 0.3, (20, 8)) for c in centres]).astype(np.float32)
    sets = [{k + 1} for k in range(3) for _ in range(20)]
    clf = TagClassifier().fit(x, sets, [1, 2, 3])
    assert clf.tags == [1, 2, 3]
    pred = np.argmax(clf.predict(x), axis=1) + 1
    assert (pred == np.array([next(iter(s)) for s in sets])).mean() == 1.0
    assert clf.suggest(centres[1])[0][0] == 2
    assert TagClassifier().fit(x, [{1}] * 60, [1, 2]).skipped == [1, 2]  # no negatives


def test_classify_untagged_suggests_for_untagged_images_only(project):
    p, run_id, truth = project
    embed_project(p, run_id, kinds=("image",))
    clf, suggestions = classify_untagged(p, run_id, threshold=0.0)
    untagged = [m for m in truth if not p.tags.of(m)]
    assert sorted(suggestions) == sorted(untagged)
    assert all(len(s) == 3 for s in suggestions.values())


def test_sampled_video_frames_and_their_boxes_are_embedded(tmp_path, trained_embedder):
    from tests.video.clips import write_cv2

    p, run_id, _ = make_project(tmp_path, trained_embedder, per_class=1, untagged=0)
    try:
        clip = write_cv2(tmp_path / "clip.avi", "MJPG", 12, size=(64, 48))
        video = p.media.import_files([clip]).added[0]
        p.frames.set_sampling(video, {"mode": "every", "step": 4, "start": 0})
        box = p.boxes.add_one(video, p.classes.all()[0].id, 5, 5, 30, 30, frame=5)
        embed_project(p, run_id, kinds=("frame", "box"))
        keys = set(p.embeddings.load(run_id, ["frame"])[0])
        assert keys == {EmbeddingKey("frame", video, f) for f in (0, 4, 8)}
        assert p.embeddings.get(run_id, EmbeddingKey("box", video, 5, box)) is not None
        vec, key = query_vector(p, run_id, parse_query(str(video)), frame=4)
        assert key == EmbeddingKey("frame", video, 4)
    finally:
        p.close()
