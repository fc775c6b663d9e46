"""Tracks continue by drawing, with real mouse and key events on the window: a box on
frame 10 and one on frame 40 are one object (11–39 interpolated); Shift+W starts a
new track; a track's last box shows faintly later on (drag it: a keyframe; Delete or
O: the track ends there); arrows always move in time on a video, Alt+arrows nudge."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from app.shell.window import MainWindow
from app.store.project import Project
from tests.widgets.conftest import click, drag


@pytest.fixture
def window(qtbot, tmp_path, mp4v_clip):
    shutil.copy(mp4v_clip, tmp_path / "clip.mp4")
    project = Project.create(tmp_path / "proj")
    project.media.import_files([tmp_path / "clip.mp4"])        # 90 frames, 160x120
    project.classes.add("car")
    project.classes.add("person")
    w = MainWindow(project)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    w.open_media(1)
    qtbot.waitUntil(lambda: w.annotator.media_id == 1 and w.canvas.image_size()[0] > 0, timeout=5000)
    yield w
    w.close()
    project.close()


def at(w, x, y) -> QPointF:
    return QPointF(w.canvas.viewport_point(x, y))


def key(w, k, mods=Qt.NoModifier):
    w.canvas.setFocus()
    QTest.keyClick(w.windowHandle(), k, mods)


def go(w, qtbot, frame: int) -> None:
    """Move in time with the arrow keys, as a person does."""
    while w.annotator.frame != frame:
        here = w.annotator.frame
        step = 10 if abs(frame - here) >= 10 else 1
        key(w, Qt.Key_Right if frame > here else Qt.Key_Left,
            Qt.ShiftModifier if step == 10 else Qt.NoModifier)
        target = here + step if frame > here else here - step
        qtbot.waitUntil(lambda: w.annotator.frame == target, timeout=5000)


def draw(w, rect, mods=Qt.NoModifier) -> None:
    key(w, Qt.Key_W, mods)
    drag(w.canvas.viewport(), at(w, rect[0], rect[1]), at(w, rect[2], rect[3]))


def track_boxes(p, track):
    return {b.frame: (b.source, tuple(round(v) for v in b.rect)) for b in p.tracks.boxes(1, track)}


def test_drawing_on_frame_10_and_40_interpolates_11_to_39(window, qtbot):
    w, p = window, window.project
    go(w, qtbot, 10)
    draw(w, (20, 20, 60, 50))
    (first,) = p.tracks.ids(1)
    go(w, qtbot, 40)
    assert w.canvas.selected_ids() == []            # the selection stayed on frame 10
    draw(w, (80, 50, 120, 80))
    assert p.tracks.ids(1) == [first]               # one object, one track
    boxes = track_boxes(p, first)
    assert sorted(boxes) == list(range(10, 41))
    assert boxes[10] == ("manual", (20, 20, 60, 50)) and boxes[40] == ("manual", (80, 50, 120, 80))
    assert {boxes[f][0] for f in range(11, 40)} == {"interpolated"}
    assert boxes[25][1] == (50, 35, 90, 65)         # half way
    assert "frames 11–39 interpolated" in w.statusBar().currentMessage()
    w.doc.undo_stack.undo()                         # one step: the keyframe and its frames
    assert sorted(track_boxes(p, first)) == [10]


def test_shift_w_starts_a_new_track_and_a_second_object_on_a_frame_is_new(window, qtbot):
    w, p = window, window.project
    go(w, qtbot, 10)
    draw(w, (10, 10, 40, 40))
    draw(w, (100, 60, 140, 100))                    # car #1 has a keyframe here: another car
    assert len(p.tracks.ids(1)) == 2
    go(w, qtbot, 20)
    draw(w, (120, 70, 150, 110), Qt.ShiftModifier)  # Shift+W: deliberately a third object
    one, two, three = p.tracks.ids(1)
    assert sorted(track_boxes(p, three)) == [20]
    draw(w, (105, 65, 140, 100))                    # #3, drawn last, has a box here: a 4th
    assert sorted(track_boxes(p, three)) == [20] and len(p.tracks.ids(1)) == 4
    assert "new track" in w.statusBar().currentMessage()
    w.actions["new_track_option"].trigger()         # nothing selected: always a new track
    go(w, qtbot, 30)
    draw(w, (105, 65, 140, 100))
    assert len(p.tracks.ids(1)) == 5


def test_a_selected_track_continues_even_if_another_was_drawn_last(window, qtbot):
    w, p = window, window.project
    go(w, qtbot, 10)
    draw(w, (10, 10, 40, 40))
    draw(w, (100, 60, 140, 100))
    one, two = p.tracks.ids(1)
    go(w, qtbot, 30)
    ghost = next(s for s in w.canvas.boxes() if s.id == -one)
    assert ghost.source == "ghost" and ghost.rect == pytest.approx((10, 10, 40, 40), abs=0.6)
    click(w.canvas.viewport(), at(w, 25, 25))       # select car #1 by its faint last box
    assert w.canvas.selected_ids() == [-one]
    draw(w, (30, 20, 60, 50))
    assert sorted(track_boxes(p, one)) == list(range(10, 31))
    assert sorted(track_boxes(p, two)) == [10]


def test_a_tracks_last_box_shows_later_until_marked_outside(window, qtbot):
    w, p = window, window.project
    go(w, qtbot, 10)
    draw(w, (20, 20, 60, 50))
    (track,) = p.tracks.ids(1)
    go(w, qtbot, 30)
    assert [s.id for s in w.canvas.boxes()] == [-track]      # faint, not counted as a box
    drag(w.canvas.viewport(), at(w, 40, 35), at(w, 60, 45))  # drag it: the object is here
    assert track_boxes(p, track)[30] == ("manual", (40, 30, 80, 60))
    assert {track_boxes(p, track)[f][0] for f in range(11, 30)} == {"interpolated"}
    go(w, qtbot, 50)
    click(w.canvas.viewport(), at(w, 60, 45))
    key(w, Qt.Key_Delete)                           # the object has left: outside from 50
    assert p.tracks.outside_frames(1, track) == [50]
    assert max(track_boxes(p, track)) == 49         # held until it left
    assert w.canvas.boxes() == []
    go(w, qtbot, 60)
    assert w.canvas.boxes() == []                   # no faint box once it is outside
    draw(w, (20, 20, 60, 50))
    assert len(p.tracks.ids(1)) == 2                # an ended track does not continue


def test_arrows_move_in_time_on_a_video_even_with_a_box_selected(window, qtbot):
    w, p = window, window.project
    go(w, qtbot, 10)
    draw(w, (20, 20, 60, 50))
    box = w.canvas.selected_ids()[0]
    x1, y1, x2, y2 = rect = p.boxes.get(box).rect
    assert p.boxes.get(box).frame == 10 and rect == pytest.approx((20, 20, 60, 50), abs=0.6)
    key(w, Qt.Key_Right, Qt.ShiftModifier)
    qtbot.waitUntil(lambda: w.annotator.frame == 20, timeout=5000)
    assert p.boxes.get(box).rect == rect                      # the box did not move
    go(w, qtbot, 10)
    w.canvas.select([box])
    key(w, Qt.Key_Right, Qt.AltModifier | Qt.ShiftModifier)    # Alt: nudge, Shift: 10 px
    assert p.boxes.get(box).rect == pytest.approx((x1 + 10, y1, x2 + 10, y2))
    key(w, Qt.Key_Left, Qt.AltModifier)
    assert p.boxes.get(box).rect == pytest.approx((x1 + 9, y1, x2 + 9, y2))
    assert w.annotator.frame == 10
