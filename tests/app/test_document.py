"""The document's undoable edits, checked against the store (Qt objects, no window)."""

import pytest

from app.labels.document import Document
from app.store.probe import MediaInfo
from app.store.project import Project
from pathlib import Path


@pytest.fixture
def doc(tmp_path, qapp):
    project = Project.create(tmp_path / "p")
    info = MediaInfo(Path("/x/a.jpg"), "image", 100, 80, "h", 1)
    with project.transaction():
        project.media.add_row(info, "/x/a.jpg", "a.jpg")
    d = Document(project)
    yield d
    project.close()


def _rects(doc, media_id=1):
    return [(b.class_id, b.rect) for b in doc.project.boxes.of(media_id)]


def test_box_edits_undo_and_redo_through_the_store(doc):
    changed = []
    doc.boxes_changed.connect(changed.append)
    cat = doc.add_class("cat")
    dog = doc.add_class("dog")
    box = doc.add_box(1, cat, (10, 10, 30, 40))
    doc.move_boxes([(box, 15, 12, 35, 42)])
    doc.set_boxes_class([box], dog)
    assert _rects(doc) == [(dog, (15, 12, 35, 42))]
    doc.delete_boxes([box])
    assert _rects(doc) == []
    stack = doc.undo_stack
    stack.undo()
    assert _rects(doc) == [(dog, (15, 12, 35, 42))]
    assert doc.project.boxes.get(box).id == box        # same id after undo of delete
    stack.undo()
    assert _rects(doc) == [(cat, (15, 12, 35, 42))]
    stack.undo()
    assert _rects(doc) == [(cat, (10, 10, 30, 40))]
    stack.undo()
    assert _rects(doc) == []
    stack.redo()
    stack.redo()
    assert _rects(doc) == [(cat, (15, 12, 35, 42))]
    assert {1} in changed


def test_delete_class_undo_restores_class_position_and_boxes(doc):
    a = doc.add_class("a")
    b = doc.add_class("b")
    doc.add_class("c")
    doc.add_box(1, b, (0, 0, 5, 5))
    doc.add_box(1, b, (1, 1, 6, 6))
    doc.delete_class(b)
    assert [c.name for c in doc.project.classes.all()] == ["a", "c"]
    assert _rects(doc) == []
    doc.undo_stack.undo()
    assert [c.name for c in doc.project.classes.all()] == ["a", "b", "c"]
    assert len(_rects(doc)) == 2 and all(cid == b for cid, _ in _rects(doc))
    doc.rename_class(a, "alpha")
    doc.recolor_class(a, "#010203")
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    cls = doc.project.classes.all()[0]
    assert (cls.name, cls.color) != ("alpha", "#010203") and cls.name == "a"


def test_duplicate_class_names_are_refused(doc):
    doc.add_class("cat")
    with pytest.raises(ValueError, match="exists already"):
        doc.add_class(" cat ")


def test_tags_toggle_and_undo(doc):
    tag = doc.add_tag("outdoor")
    doc.set_tag([1], tag, True)
    assert doc.project.tags.of(1) == {tag}
    doc.undo_stack.undo()
    assert doc.project.tags.of(1) == set()
    doc.undo_stack.redo()
    doc.delete_tag(tag)
    assert doc.project.tags.all() == []
    doc.undo_stack.undo()
    assert doc.project.tags.of(1) == {tag}


def test_paste_creates_new_manual_boxes(doc):
    cat = doc.add_class("cat")
    src = doc.add_box(1, cat, (1, 2, 3, 4))
    copied = [dict(class_id=cat, x1=1, y1=2, x2=3, y2=4, track_id=None, id=src)]
    ids = doc.paste_boxes(1, 0, copied)
    assert len(ids) == 1 and ids[0] != src
    assert len(_rects(doc)) == 2
    doc.undo_stack.undo()
    assert len(_rects(doc)) == 1
