"""One suite, every store: filtered top-k equals brute force over the payloads,
and upserts, payload changes, deletes and counts behave alike."""
from __future__ import annotations

import numpy as np
import pytest

from app.search.filters import Condition, Where
from app.search.stores import EmbeddedStore, Point
from app.store.models import EmbeddingKey
from app.store.search_items import SearchItem
from tests.search.helpers import unit

N = 600
WHERES = {
    "none": Where(),
    "tag": Where((Condition("tags", (2,)),)),
    "not tag": Where((Condition("tags", (2,), negate=True),)),
    "class": Where((Condition("classes", (1,)),)),
    "split any of": Where((Condition("split", ("val", "test")),)),
    "split none": Where((Condition("split", ("none",)),)),
    "labelled": Where((Condition("labelled", (True,)),)),
    "unlabelled": Where((Condition("labelled", (True,), negate=True),)),
    "video": Where((Condition("media_kind", ("video",)),)),
    "boxes": Where((Condition("kind", ("box",)),)),
    "pictures, val, tag 3, not class 2": Where((
        Condition("kind", ("image", "frame")), Condition("split", ("val",)),
        Condition("tags", (3,)), Condition("classes", (2,), negate=True))),
    "rare": Where((Condition("tags", (3,)), Condition("classes", (3,)),
                   Condition("media_kind", ("video",)))),
    "nothing": Where((Condition("tags", (99,)),)),
}


def points(seed: int = 0, n: int = N, dim: int = 16) -> list[Point]:
    rng = np.random.default_rng(seed)
    vectors = unit(rng, n, dim)
    out = []
    for i in range(n):
        kind = ("image", "frame", "box")[i % 3]
        media = i // 3 + 1
        key = EmbeddingKey(kind, media, 5 if kind == "frame" else 0, i if kind == "box" else 0)
        out.append(Point(key, vectors[i], {
            "kind": kind, "media": media, "frame": key.frame, "box": key.box_id,
            "media_kind": "video" if kind == "frame" or media % 7 == 0 else "image",
            "split": ("train", "val", "test", "none")[media % 4],
            "tags": sorted(int(t) for t in rng.choice([1, 2, 3], rng.integers(0, 3), replace=False)),
            "classes": [int(rng.integers(1, 4))], "labelled": bool(media % 3),
            "run": 1, "stamp": ""}))
    return out


def brute(pts: list[Point], query: np.ndarray, k: int, where: Where):
    scored = sorted(((float(p.vector @ query), p.key) for p in pts if where.matches(p.payload)),
                    key=lambda sk: -sk[0])
    return [key for _, key in scored[:k]]


@pytest.fixture
def filled(make_store):
    pts = points()
    store = make_store()
    store.upsert(pts)
    return store, pts


@pytest.mark.parametrize("name", list(WHERES))
def test_filtered_topk_is_brute_force(filled, name):
    store, pts = filled
    where = WHERES[name]
    assert store.count(where) == sum(where.matches(p.payload) for p in pts)
    for q in (pts[4].vector, pts[301].vector, unit(np.random.default_rng(9), 1)[0]):
        hits = store.search(q, 10, where)
        assert [h.key for h in hits] == brute(pts, q, 10, where)
        for h in hits:
            assert h.score == pytest.approx(float(q @ next(p.vector for p in pts if p.key == h.key)),
                                            abs=1e-5)
    assert store.search(pts[4].vector, 0, where) == []


def test_all_matches_when_k_exceeds_them(filled):
    store, pts = filled
    where = WHERES["rare"]
    n = store.count(where)
    assert 0 < n < 50
    hits = store.search(pts[0].vector, 50, where)
    assert len(hits) == n and [h.key for h in hits] == brute(pts, pts[0].vector, 50, where)
    assert store.search(pts[0].vector, 10, WHERES["nothing"]) == []


def test_upsert_replaces_payloads_change_deletes_remove(filled):
    store, pts = filled
    rng = np.random.default_rng(5)
    # a held key with a new vector and payload: replaced, not added
    moved = pts[9]
    new_vec = unit(rng, 1)[0]
    new_payload = dict(moved.payload, tags=[3], labelled=False, stamp="later")
    store.upsert([Point(moved.key, new_vec, new_payload)])
    pts[9] = Point(moved.key, new_vec, new_payload)
    assert store.count() == N
    assert store.search(new_vec, 1)[0].key == moved.key
    # payloads only: membership changes, vectors stay
    renamed = {p.key: dict(p.payload, split="val", tags=[2]) for p in pts[30:60]}
    store.set_payloads(renamed)
    pts[30:60] = [Point(p.key, p.vector, renamed[p.key]) for p in pts[30:60]]
    # deletes
    gone = [p.key for p in pts[100:130]]
    store.delete(gone)
    pts = [p for p in pts if p.key not in set(gone)]
    assert store.count() == N - 30
    for where in WHERES.values():
        assert store.count(where) == sum(where.matches(p.payload) for p in pts)
        q = pts[40].vector
        assert [h.key for h in store.search(q, 10, where)] == brute(pts, q, 10, where)
    some = [p.key for p in pts if p.payload["media"] in (11, 12, 35)]
    assert store.get(some + [EmbeddingKey("image", 10**6)]) == {
        p.key: p.payload for p in pts if p.key in set(some)}
    assert store.delete_media([11, 12]) == 6 and store.count() == N - 36
    assert store.get(some) == {p.key: p.payload for p in pts if p.payload["media"] == 35}
    store.clear()
    assert store.count() == 0 and store.search(pts[0].vector, 5) == []


def as_items(pts: list[Point]) -> list[SearchItem]:
    """The items whose payloads (run 1) are those of ``pts``."""
    return [SearchItem(p.key, p.payload["stamp"], p.payload["media_kind"],
                       None if p.payload["split"] == "none" else p.payload["split"],
                       tuple(p.payload["tags"]), tuple(p.payload["classes"]),
                       p.payload["labelled"]) for p in pts]


def test_a_store_loaded_whole_behaves_as_one_filled_point_by_point(make_store):
    """load_items (a first sync; the embedded store builds its columns in one pass and
    makes payloads only when asked) then the changes later syncs send: every filter
    still equals brute force; in the embedded store the deletes force a compaction."""
    pts = points(seed=8, n=1500)
    store = make_store()
    store.load_items(as_items(pts), np.stack([p.vector for p in pts]), 1)
    assert store.count() == 1500
    for name in ("none", "tag", "unlabelled", "pictures, val, tag 3, not class 2"):
        where = WHERES[name]
        assert store.count(where) == sum(where.matches(p.payload) for p in pts)
        assert [h.key for h in store.search(pts[3].vector, 10, where)] == brute(
            pts, pts[3].vector, 10, where)
    assert store.get([p.key for p in pts[:40]]) == {p.key: p.payload for p in pts[:40]}
    store.delete([p.key for p in pts[:1200]])
    retagged = {p.key: dict(p.payload, tags=[1, 3], split="test") for p in pts[1200:1250]}
    store.set_payloads(retagged)
    rng = np.random.default_rng(3)
    moved = [Point(p.key, unit(rng, 1)[0], dict(p.payload, stamp="later")) for p in pts[1400:1420]]
    store.upsert(moved)
    live = ([Point(p.key, p.vector, retagged[p.key]) for p in pts[1200:1250]]
            + pts[1250:1400] + moved + pts[1420:])
    if isinstance(store, EmbeddedStore):
        assert store._n == len(live)             # compacted: the dead rows are gone
    assert store.count() == len(live)
    for where in WHERES.values():
        assert store.count(where) == sum(where.matches(p.payload) for p in live)
        for q in (live[60].vector, live[0].vector):
            assert [h.key for h in store.search(q, 10, where)] == brute(live, q, 10, where)
    assert store.get([p.key for p in live]) == {p.key: p.payload for p in live}


def test_empty_store(make_store):
    store = make_store()
    assert store.count() == 0 and store.count(WHERES["tag"]) == 0
    assert store.search(np.ones(16, np.float32) / 4, 10) == []
    assert store.get([EmbeddingKey("image", 1)]) == {} and store.delete_media([1]) == 0
    store.delete([EmbeddingKey("image", 1)])
    store.set_payloads({})


def test_embedded_and_qdrant_agree(tmp_path):
    """The two stores side by side: same neighbours, same order, same scores."""
    from app.search.stores.qdrant import QdrantStore

    pts = points(seed=3)
    stores = [EmbeddedStore(use_faiss=False), QdrantStore("c", path=tmp_path / "q")]
    try:
        for s in stores:
            s.upsert(pts)
        queries = unit(np.random.default_rng(4), 20)
        for where in WHERES.values():
            for q in queries:
                a, b = (s.search(q, 10, where) for s in stores)
                assert [h.key for h in a] == [h.key for h in b]
                assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-5)
    finally:
        stores[1].close()


def test_embedded_compacts_dead_rows():
    """Many replaced and deleted rows are dropped in one go; results stay exact."""
    pts = points(seed=1, n=3000)
    store = EmbeddedStore(use_faiss=False)
    store.upsert(pts)
    store.delete([p.key for p in pts[:1500]])
    rng = np.random.default_rng(2)
    fresh = [Point(p.key, unit(rng, 1)[0], p.payload) for p in pts[1500:2000]]
    store.upsert(fresh)                         # replaced: the old rows die
    assert store._n < 3000 + 500                 # compacted: dead rows are gone
    live = fresh + pts[2000:]
    assert store.count() == len(live)
    for where in (WHERES["none"], WHERES["split any of"], WHERES["rare"]):
        q = live[7].vector
        assert [h.key for h in store.search(q, 10, where)] == brute(live, q, 10, where)


class _FlatIP:
    """A stand-in for faiss's flat and HNSW inner-product indexes (add, search, ids in
    order of adding) when faiss is not installed: the store's bookkeeping around faiss
    (rows appended after upserts, dead rows skipped) is what this test checks."""

    def __init__(self, d, *_args):
        self.x = np.zeros((0, d), np.float32)
        self.hnsw = type("P", (), {"efSearch": 16})()

    def add(self, x):
        self.x = np.concatenate([self.x, x])

    def search(self, q, k):
        s = q @ self.x.T
        idx = np.argsort(-s, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(s, idx, 1), idx


def test_embedded_faiss_path_matches_exact(monkeypatch):
    import sys
    import types

    try:
        import faiss  # noqa: F401  (the real one when installed)
    except ImportError:
        stand_in = types.SimpleNamespace(IndexFlatIP=_FlatIP, IndexHNSWFlat=_FlatIP,
                                         METRIC_INNER_PRODUCT=0)
        monkeypatch.setitem(sys.modules, "faiss", stand_in)
    pts = points(seed=6, n=900)
    exact, fast = EmbeddedStore(use_faiss=False), EmbeddedStore(use_faiss=True, hnsw_from=10**9)
    for s in (exact, fast):
        s.upsert(pts[:600])
    assert fast.search(pts[1].vector, 3)[0].key == pts[1].key   # builds the index
    for s in (exact, fast):                                    # then: appended, replaced, deleted
        s.upsert(pts[600:] + [Point(pts[5].key, pts[700].vector, pts[5].payload)])
        s.delete([pts[0].key, pts[650].key])
    for q in unit(np.random.default_rng(7), 10):
        assert [h.key for h in fast.search(q, 10)] == [h.key for h in exact.search(q, 10)]
    assert fast._faiss is not None and fast._faiss_rows == fast._n == 901
