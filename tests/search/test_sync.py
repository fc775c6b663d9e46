"""Keeping a store in step with the project: the first sync sends everything, later
ones only the media whose labels or embeddings changed, whoever changed them."""
from __future__ import annotations

import numpy as np
import pytest

from app.search import filters
from app.search.stores import open_store, parse_spec
from app.search.sync import sync
from app.store import search_items
from app.store.models import EmbeddingKey
from tests.search.helpers import make_search_project, reference, unit


@pytest.fixture
def project(tmp_path):
    p, run_id = make_search_project(tmp_path)
    yield p, run_id
    p.close()


@pytest.fixture
def store(project, spec_text):
    p, run_id = project
    s = open_store(p, run_id, parse_spec(spec_text))
    yield s
    s.close()


def same_as_project(p, run_id, store) -> None:
    """The store holds exactly the project's items and facts, and searches alike."""
    media = search_items.embedded_media(p, run_id)
    want = search_items.items(p, run_id, media)
    held = store.get(search_items.known_keys(p, run_id, media) | set(want))
    assert set(held) == set(want)
    assert store.count() == len(want)
    q = unit(np.random.default_rng(11), 1)[0]
    for text in ([], ["tag=bees"], ["unlabelled"], ["split=val", "class=dog"], ["media=video"],
                 ["labelled", "tag!=bees"]):
        where = filters.parse(text, p)
        assert [h.key for h in store.search(q, 8, where)] == [k for k, _ in
                                                                reference(p, run_id, q, 8, where)]


def test_first_sync_sends_every_item_with_its_facts(project, store):
    p, run_id = project
    report = sync(p, run_id, store)
    assert report.rebuilt and report.vectors == store.count() == 24 + 2 + 17
    same_as_project(p, run_id, store)
    by_media = store.get(search_items.known_keys(p, run_id, [1, 2, 3]))
    image1 = by_media[EmbeddingKey("image", 1)]
    assert (image1["split"], image1["labelled"], image1["tags"], image1["classes"]) == (
        "train", False, [], [])                       # media 1: unlabelled
    box = next(pl for k, pl in by_media.items() if k.kind == "box" and k.media_id == 2)
    assert (box["split"], box["labelled"], box["classes"]) == ("val", True, [2])   # dog
    assert by_media[EmbeddingKey("image", 3)]["tags"] == [1]                       # bees
    assert sync(p, run_id, store).changed is False     # nothing changed: nothing sent


def test_first_sync_reports_progress_and_a_rebuild_reads_the_project_afresh(project, store):
    p, run_id = project
    seen = []
    sync(p, run_id, store, lambda done, total: seen.append((done, total)))
    media = len(search_items.embedded_media(p, run_id))
    assert seen and seen[-1] == (media, media) and all(d <= t == media for d, t in seen)
    p.tags.set(4, p.tags.ensure("wasps"), True)
    store.delete([EmbeddingKey("image", 10)])          # the store no longer matches its state
    r = sync(p, run_id, store)
    assert r.rebuilt and r.vectors == store.count() == 43
    same_as_project(p, run_id, store)
    assert sync(p, run_id, store).changed is False


def test_only_what_changed_is_sent(project, store):
    p, run_id = project
    sync(p, run_id, store)
    bees = p.tags.ensure("bees")
    cat = p.classes.by_name("cat").id
    # a tag on an unlabelled image: one payload (its only item), no vector
    p.tags.set(1, bees, True)
    r = sync(p, run_id, store)
    assert (r.vectors, r.payloads, r.deleted, r.rebuilt) == (0, 1, 0, False)
    # a box's class: the box and its picture carry new classes
    box = p.boxes.of(2)[0]
    p.boxes.update(box.id, class_id=cat)
    assert (lambda r: (r.vectors, r.payloads, r.deleted))(sync(p, run_id, store)) == (0, 2, 0)
    # a split; a deleted box (gone from the store before any re-embedding)
    p.media.set_split([5], "test")
    gone = p.boxes.of(6)[0]
    p.boxes.delete([gone.id])
    r = sync(p, run_id, store)
    assert (r.vectors, r.deleted) == (0, 1) and r.payloads == 3   # 5: image+box, 6: image
    # re-embedding one box (a new stamp) sends one vector; a new media its vector
    moved = p.boxes.of(8)[0]
    p.embeddings.put(run_id, [(EmbeddingKey("box", 8, 0, moved.id), "later",
                               unit(np.random.default_rng(1), 1)[0])])
    r = sync(p, run_id, store)
    assert (r.vectors, r.payloads, r.deleted) == (1, 0, 0)
    # a media removed from the project takes its items with it
    p.media.delete(9)
    r = sync(p, run_id, store)
    assert r.deleted == 2 and r.vectors == 0
    # a box deleted and its vector pruned (as the next embedding does) before any sync
    box = p.boxes.of(11)[0]
    key = EmbeddingKey("box", 11, 0, box.id)
    p.boxes.delete([box.id])
    p.embeddings.delete(run_id, [key])
    r = sync(p, run_id, store)
    assert (r.deleted, r.payloads) == (1, 1) and store.get([key]) == {}
    same_as_project(p, run_id, store)


def test_undo_is_a_change_like_any_other(project, store):
    from app.store.journal import Journal

    p, run_id = project
    sync(p, run_id, store)
    journal = Journal(p)
    wasps = p.tags.ensure("wasps")
    step, _, _ = journal.record("Tag wasps", lambda q: [q.tags.set(m, wasps, True) for m in (1, 5)])
    assert sync(p, run_id, store).payloads == 1 + 2       # image 1; image 5 and its box
    assert filters.parse(["tag=wasps"], p).matches(store.get([EmbeddingKey("image", 5)])[EmbeddingKey("image", 5)])
    journal.undo(step.id)
    assert sync(p, run_id, store).payloads == 3
    same_as_project(p, run_id, store)
    assert store.count(filters.parse(["tag=wasps"], p)) == 0


def test_qdrant_local_keeps_its_state_across_processes(project, tmp_path):
    """A reopened local collection is caught up, not rebuilt; one whose count no
    longer matches what was left there is rebuilt."""
    p, run_id = project
    spec = parse_spec("qdrant://local")
    s = open_store(p, run_id, spec)
    sync(p, run_id, s)
    s.close()
    assert (p.root / "vectors" / "qdrant").is_dir()
    p.tags.set(7, p.tags.ensure("wasps"), True)
    s = open_store(p, run_id, spec)
    try:
        r = sync(p, run_id, s)
        assert not r.rebuilt and (r.vectors, r.payloads) == (0, 1)
        s.delete([EmbeddingKey("image", 10)])          # someone else's hand in the collection
        r = sync(p, run_id, s)
        assert r.rebuilt and r.vectors == s.count() == 43
        same_as_project(p, run_id, s)
    finally:
        s.close()


def test_a_second_process_on_the_local_folder_is_told_why(project):
    from app.search.stores import StoreError

    p, run_id = project
    first = open_store(p, run_id, parse_spec("qdrant://local"))
    try:
        with pytest.raises(StoreError, match="open in another Kestrel process"):
            open_store(p, run_id, parse_spec("qdrant://local"))
    finally:
        first.close()
