"""Undoable video edits through the document: keyframes, interpolation, outside, undo."""

from __future__ import annotations

import pytest

from app.labels.document import Document
from app.video.commands import VideoEdits


@pytest.fixture
def edits(video_project, qapp):
    return VideoEdits(Document(video_project))


def _state(project, track=1):
    """(frame, source, rect) of every box of a track, with the outside markers."""
    boxes = [(b.frame, b.source, b.rect) for b in project.tracks.boxes(1, track)]
    return boxes, project.tracks.outside_frames(1, track)


def _full(project):
    rows = project.conn.execute("SELECT * FROM boxes ORDER BY id").fetchall()
    marks = project.conn.execute("SELECT * FROM track_events ORDER BY 1, 2, 3").fetchall()
    return [tuple(r)[:11] for r in rows], [tuple(r) for r in marks]


def test_two_keyframes_interpolate_and_undo_removes_them(edits):
    p = edits.project
    changed = []
    edits.doc.boxes_changed.connect(changed.append)
    box, track = edits.add_box(1, 10, 1, (10, 20, 50, 80))
    assert track == 1 and p.boxes.get(box).source == "manual"
    edits.add_box(1, 40, 1, (100, 60, 140, 100), track_id=track)
    boxes = {b.frame: b for b in p.tracks.boxes(1, 1)}
    assert sorted(boxes) == list(range(10, 41))
    assert boxes[25].rect == (55, 40, 95, 90) and boxes[25].source == "interpolated"
    assert edits.markers(1) == (list(range(10, 41)), [10, 40])
    edits.doc.undo_stack.undo()
    assert [b.frame for b in p.tracks.boxes(1, 1)] == [10]
    edits.doc.undo_stack.redo()
    assert len(p.tracks.boxes(1, 1)) == 31
    assert changed and all(c == {1} for c in changed)
    _, second = edits.add_box(1, 5, 1, (0, 0, 5, 5))
    assert second == 2                                   # a new track for a new object


def test_editing_an_interpolated_box_makes_a_keyframe(edits):
    p = edits.project
    edits.add_box(1, 10, 1, (10, 20, 50, 80))
    edits.add_box(1, 40, 1, (100, 60, 140, 100), track_id=1)
    before = _full(p)
    b25 = next(b for b in p.boxes.of(1, 25))
    edits.edit_boxes(1, 25, [(b25.id, 20, 20, 60, 60)])
    after = p.boxes.get(b25.id)
    assert after.source == "manual" and after.rect == (20, 20, 60, 60)
    boxes = {b.frame: b for b in p.tracks.boxes(1, 1)}
    # Neighbours now interpolate towards the new keyframe on both sides.
    assert boxes[15].rect == pytest.approx((10 + 10 / 3, 20, 50 + 10 / 3, 80 - 20 / 3))
    assert boxes[30].rect == pytest.approx((20 + 80 / 3, 20 + 40 / 3, 60 + 80 / 3, 60 + 40 / 3))
    assert p.frames.keyframes(1) == [10, 25, 40]
    edits.doc.undo_stack.undo()
    assert _full(p) == before                            # exactly, ids included
    edits.doc.undo_stack.redo()
    assert p.boxes.get(b25.id).source == "manual"


def test_deleting_a_keyframe_re_interpolates(edits):
    p = edits.project
    k10, _ = edits.add_box(1, 10, 1, (10, 10, 20, 20))
    k20, _ = edits.add_box(1, 20, 1, (30, 10, 40, 20), track_id=1)
    edits.add_box(1, 40, 1, (30, 50, 40, 60), track_id=1)
    before = _full(p)
    edits.delete_boxes([k20])
    boxes = {b.frame: b for b in p.tracks.boxes(1, 1)}
    assert sorted(boxes) == list(range(10, 41)) and boxes[20].source == "interpolated"
    assert boxes[25].rect == pytest.approx((20, 30, 30, 40))    # straight from 10 to 40
    edits.doc.undo_stack.undo()
    assert _full(p) == before
    edits.delete_boxes([k10])
    assert [b.frame for b in p.tracks.boxes(1, 1)][0] == 20


def test_outside_markers_and_deleting_an_interpolated_box(edits):
    p = edits.project
    edits.add_box(1, 10, 1, (10, 10, 20, 20))
    edits.add_box(1, 40, 1, (40, 10, 50, 20), track_id=1)
    start = _full(p)
    edits.mark_outside(1, 1, 30)
    boxes, marks = _state(p)
    assert [f for f, *_ in boxes] == list(range(10, 30)) + [40] and marks == [30]
    edits.clear_outside(1, 1, 30)
    assert len(_state(p)[0]) == 31
    b35 = next(b for b in p.boxes.of(1, 35))
    edits.delete_boxes([b35.id])                         # interpolated: outside from 35
    boxes, marks = _state(p)
    assert [f for f, *_ in boxes] == list(range(10, 35)) + [40] and marks == [35]
    # A new keyframe drawn on a marker's frame lifts the marker.
    edits.add_box(1, 35, 1, (35, 10, 45, 20), track_id=1)
    boxes, marks = _state(p)
    assert len(boxes) == 31 and marks == []
    for _ in range(4):
        edits.doc.undo_stack.undo()
    assert _full(p) == start
    for _ in range(4):
        edits.doc.undo_stack.redo()
    assert len(_state(p)[0]) == 31


def test_mark_outside_on_a_keyframe_removes_it(edits):
    p = edits.project
    edits.add_box(1, 10, 1, (10, 10, 20, 20))
    edits.add_box(1, 20, 1, (20, 10, 30, 20), track_id=1)
    edits.mark_outside(1, 1, 20)
    boxes = p.tracks.boxes(1, 1)                 # the marker ends the track: box 10 held
    assert [b.frame for b in boxes] == list(range(10, 20)) and boxes[-1].rect == (10, 10, 20, 20)
    assert p.frames.keyframes(1) == [10]


def test_class_change_covers_the_track_and_delete_track(edits):
    p = edits.project
    dog = p.classes.add("dog")
    edits.add_box(1, 0, 1, (0, 0, 10, 10))
    edits.add_box(1, 4, 1, (4, 0, 14, 10), track_id=1)
    some = p.boxes.of(1, 2)[0].id
    edits.set_class([some], dog)
    assert {b.class_id for b in p.tracks.boxes(1, 1)} == {dog}
    edits.delete_track(1, 1)
    assert p.tracks.boxes(1, 1) == []
    edits.doc.undo_stack.undo()
    edits.doc.undo_stack.undo()
    assert {b.class_id for b in p.tracks.boxes(1, 1)} == {1} and len(p.tracks.boxes(1, 1)) == 5


def test_boxes_without_a_track_edit_and_undo(edits):
    p = edits.project
    loose = p.boxes.add_one(1, 1, 0, 0, 10, 10, frame=3)
    edits.edit_boxes(1, 3, [(loose, 5, 5, 1, 1)])
    assert p.boxes.get(loose).rect == (1, 1, 5, 5)
    edits.delete_boxes([loose])
    edits.doc.undo_stack.undo()
    edits.doc.undo_stack.undo()
    assert p.boxes.get(loose).rect == (0, 0, 10, 10)


def test_interpolate_and_sampling_setting(edits):
    p = edits.project
    p.boxes.add_one(1, 1, 0, 0, 10, 10, frame=0, track_id=3)       # e.g. imported keyframes
    p.boxes.add_one(1, 1, 10, 0, 20, 10, frame=10, track_id=3)
    edits.interpolate(1)
    assert len(p.tracks.boxes(1, 3)) == 11
    edits.doc.undo_stack.undo()
    assert len(p.tracks.boxes(1, 3)) == 2
    edits.set_sampling(1, {"mode": "every", "step": 5})
    assert p.frames.sampling(1) == {"mode": "every", "start": 0, "step": 5}
    with pytest.raises(ValueError):
        edits.set_sampling(1, {"mode": "every", "step": -1})
