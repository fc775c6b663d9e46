"""Filters as people write them, and the change log that keeps stores in step."""
from __future__ import annotations

import pytest

from app.search import filters
from app.search.filters import Condition, FilterError
from app.store import search_items
from tests.search.helpers import make_search_project


@pytest.fixture
def project(tmp_path):
    p, run_id = make_search_project(tmp_path, images=12)
    yield p
    p.close()


def test_where_forms(project):
    p = project
    bees, dog = p.tags.ensure("bees"), p.classes.by_name("dog").id
    where = filters.parse(["tag=bees", "class!=dog", "split=val,test", "unlabelled",
                           "media=video", "kind=box", " "], p)
    assert where.conditions == (
        Condition("tags", (bees,)), Condition("classes", (dog,), negate=True),
        Condition("split", ("val", "test")), Condition("labelled", (True,), negate=True),
        Condition("media_kind", ("video",)), Condition("kind", ("box",)))
    assert where.text == "tag=bees, class!=dog, split=val,test, unlabelled, media=video, kind=box"
    assert filters.parse(["Labelled"], p).conditions == (Condition("labelled", (True,)),)
    assert not filters.parse([], p)
    assert filters.build(p, tag="bees", split="none", labelled=False).conditions == (
        Condition("tags", (bees,)), Condition("split", ("none",)),
        Condition("labelled", (True,), negate=True))


@pytest.mark.parametrize("text, message", [
    ("tag=moths", "no tag named 'moths' (tags: bees, wasps)"),
    ("class=cow", "no class named 'cow' (classes: cat, dog)"),
    ("split=holdout", "split is one of train, val, test, none"),
    ("colour=red", "expected one of tag=NAME"),
    ("tag=", "expected one of"),
    ("labelled=yes", "expected one of"),
])
def test_bad_filters_say_what_is_wrong(project, text, message):
    with pytest.raises(FilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        filters.parse([text], project)


def test_matches_is_the_reference_meaning():
    payload = {"tags": [1, 3], "classes": [], "split": "none", "labelled": False,
               "media_kind": "image", "kind": "image"}
    assert Condition("tags", (2, 3)).matches(payload)
    assert not Condition("tags", (3,), negate=True).matches(payload)
    assert Condition("classes", (1,), negate=True).matches(payload)   # no class: not class 1
    assert Condition("split", ("none",)).matches(payload)


def test_every_kind_of_change_marks_its_media(project):
    p = project
    head = search_items.change_head(p)

    def marked() -> list[int]:
        nonlocal head
        media = search_items.changed_since(p, head)
        head = search_items.change_head(p)
        return media

    bees = p.tags.ensure("bees")
    p.tags.set(1, bees, True)
    p.tags.set(1, bees, True)                         # INSERT OR IGNORE of a held tag
    assert marked() == [1]
    p.tags.set(1, bees, False)
    assert marked() == [1]
    box = p.boxes.add_one(2, p.classes.by_name("cat").id, 1, 1, 9, 9)
    assert marked() == [2]
    p.boxes.update(box, x1=2)                        # geometry: no fact changes
    assert marked() == []
    p.boxes.update(box, class_id=p.classes.by_name("dog").id)
    assert marked() == [2]
    p.boxes.add_one(3, p.classes.by_name("cat").id, 1, 1, 9, 9, source="predicted", score=0.9)
    assert marked() == []                             # model output is no label
    p.boxes.delete([box])
    p.media.set_split([4, 5], "val")
    assert marked() == [2, 4, 5]
    p.media.delete(6)
    assert marked() == [6]
    assert search_items.changed_since(p, 0) == sorted(set(search_items.changed_since(p, 0)))


def test_deleted_embeddings_are_remembered_until_embedded_again(project):
    from app.store.models import EmbeddingKey

    p = project
    run_id = p.runs.all()[0].id
    box = p.boxes.of(2)[0]
    key = EmbeddingKey("box", 2, 0, box.id)
    vector = p.embeddings.get(run_id, key)
    p.embeddings.delete(run_id, [key])
    assert key in search_items.known_keys(p, run_id, [2])
    p.embeddings.put(run_id, [(key, "again", vector)])
    assert p.conn.execute("SELECT COUNT(*) FROM search_gone").fetchone()[0] == 0
    p.embeddings.delete(run_id, [key])
    p.media.delete(2)                      # the media goes: nothing of it is kept
    p.media.delete(3)                      # a cascade from the media keeps nothing either
    other = p.runs.add(name="x", task="embedder", template="t", run_dir="")
    p.embeddings.put(other, [(EmbeddingKey("image", 4), "", vector)])
    p.conn.execute("DELETE FROM runs WHERE id = ?", (other,))
    assert p.conn.execute("SELECT COUNT(*) FROM search_gone").fetchone()[0] == 0


def test_the_log_triggers_are_in_a_new_project(project):
    """A later migration that rebuilds a table drops its triggers: this says so."""
    names = {r[0] for r in project.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'search_%'")}
    assert names == {"search_boxes_insert", "search_boxes_delete", "search_boxes_update",
                     "search_tags_insert", "search_tags_delete", "search_media_split",
                     "search_media_delete", "search_embeddings_insert",
                     "search_embeddings_delete"}


def test_labelled_is_one_definition(project):
    p = project
    labelled = search_items.labelled_media(p)
    assert labelled == {m for m in p.media.ids() if p.boxes.count(m) or p.tags.of(m)}
    assert search_items.labelled_media(p, [1, 2, 3]) == labelled & {1, 2, 3}
