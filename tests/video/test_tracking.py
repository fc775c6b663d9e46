"""Track forward: the MIL core on a clip with a known moving patch, and the window
action that turns its boxes into keyframes in one undo step."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.store.project import Project
from app.store.video import VideoReader
from app.video.tracking import TrackForward

SIZE, FRAMES, GONE = 40, 40, 30      # patch side; clip length; first frame without the patch
START, STEP = (10, 20), (2, 1)       # where the patch starts, how far it moves a frame


def truth(frame: int) -> tuple[int, int, int, int]:
    x, y = START[0] + STEP[0] * frame, START[1] + STEP[1] * frame
    return x, y, x + SIZE, y + SIZE


def write_clip(path):
    """160x120 MJPG: random noise (something for MIL to hold on to; a flat square
    is lost) moving on a flat background, gone from frame GONE on."""
    patch = np.random.default_rng(0).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (160, 120))
    for i in range(FRAMES):
        img = np.full((120, 160, 3), 90, np.uint8)
        if i < GONE:
            x1, y1, x2, y2 = truth(i)
            img[y1:y2, x1:x2] = patch
        writer.write(img)
    writer.release()
    return path


def iou(a, b) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("track") / "patch.avi")


@pytest.fixture
def reader(clip):
    with VideoReader(clip) as r:
        yield r


def test_follows_the_patch_then_stops_on_low_confidence(reader):
    job = TrackForward(reader, 0, truth(0))
    steps = list(job)
    assert [s.frame for s in steps] == list(range(1, GONE))
    assert min(iou(s.box, truth(s.frame)) for s in steps) > 0.7
    assert min(s.confidence for s in steps) > 0.8
    assert job.stop.reason == "confidence" and job.stop.frame == GONE
    assert job.stop.text.startswith("confidence ") and f"at frame {GONE}" in job.stop.text


def test_stops_before_the_next_keyframe_and_at_the_limits(reader):
    job = TrackForward(reader, 5, truth(5), until=12)
    assert [s.frame for s in job] == list(range(6, 12))
    assert job.stop.reason == "until" and job.stop.frame == 12 and job.last_frame == 11

    job = TrackForward(reader, 0, truth(0), max_frames=4)
    assert [s.frame for s in job] == [1, 2, 3, 4] and job.stop.reason == "limit"

    job = TrackForward(reader, FRAMES - 1, (20, 20, 60, 60))
    assert list(job) == [] and job.stop.reason == "end"


def test_cancel_stops_between_frames(reader):
    seen = []
    job = TrackForward(reader, 0, truth(0), cancel=lambda: len(seen) >= 3)
    for step in job:
        seen.append(step)
    assert len(seen) == 3 and job.stop.reason == "cancelled" and job.stop.frame == 4


def _track(clip, disturb: bool = False) -> tuple:
    """One job on its own reader; ``disturb`` first advances this thread's OpenCV
    generator, as any other OpenCV call before it would."""
    if disturb:
        cv2.randu(np.empty((64, 64), np.uint8), 0, 255)
    with VideoReader(clip) as r:
        job = TrackForward(r, 0, truth(0))
        return tuple((s.frame, s.box, s.confidence) for s in job), job.stop


def test_the_same_job_gives_the_same_track_every_time_and_on_any_thread(clip):
    first = _track(clip)
    assert len(first[0]) == GONE - 1
    for i in range(20):
        assert _track(clip, disturb=i % 2 == 1) == first
    results = []
    threads = [threading.Thread(target=lambda: results.append(_track(clip, disturb=True)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [first, first]


def test_a_flat_box_has_no_confidence(reader):
    job = TrackForward(reader, 0, (100, 80, 140, 110))      # background only
    assert list(job) == [] and job.stop.reason == "confidence"


# -- the window ----------------------------------------------------------------------
@pytest.fixture
def window(qtbot, tmp_path, clip):
    from app.shell.window import MainWindow

    project = Project.create(tmp_path / "proj")
    project.media.import_files([clip])
    class_id = project.classes.add("thing")
    w = MainWindow(project)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.open_media(1)
    qtbot.waitUntil(lambda: w.annotator.frame == 0 and w.annotator.media_id == 1, timeout=5000)
    w.class_id = class_id
    yield w
    w.close()
    project.close()


def _select(w, qtbot, box_id):
    w.annotator.refresh()
    w.canvas.select([box_id])
    qtbot.waitUntil(lambda: w.actions["track_forward"].isEnabled(), timeout=2000)


def test_track_forward_adds_keyframes_in_one_undo_step(window, qtbot):
    w, p = window, window.project
    box_id, track = w.video.edits.add_box(1, 0, w.class_id, truth(0))
    w.video.edits.add_box(1, 20, w.class_id, truth(20), track_id=track)   # the next keyframe
    before = [(b.frame, b.source, b.rect) for b in p.tracks.boxes(1, track)]
    assert w.actions["track_forward"].shortcut().toString() == "T"
    _select(w, qtbot, box_id)
    with qtbot.waitSignal(w.video.tracking.finished, timeout=20000) as done:
        QTest.keyClick(w.windowHandle(), Qt.Key_T)
    assert done.args[0].startswith("Tracked 19 frames; stopped: reached the track's next keyframe")
    assert w.statusBar().currentMessage() == done.args[0]
    boxes = {b.frame: b for b in p.tracks.boxes(1, track)}
    assert sorted(boxes) == list(range(0, 21))
    assert all(boxes[f].source == "manual" and boxes[f].class_id == w.class_id for f in boxes)
    assert min(iou(boxes[f].rect, truth(f)) for f in range(1, 20)) > 0.7
    progress = w.video.tracking.progress     # the why stays in view until dismissed
    assert progress.isVisible() and progress.label.text() == done.args[0]
    assert progress.cancel.text() == "OK" and not progress.bar.isVisible()
    progress.cancel.click()
    assert not progress.isVisible()

    w.doc.undo_stack.undo()                    # one step takes all of them away
    assert [(b.frame, b.source, b.rect) for b in p.tracks.boxes(1, track)] == before
    w.doc.undo_stack.redo()
    assert len(p.tracks.keyframes(1, track)) == 21


def test_track_forward_reports_where_the_object_was_lost_and_cancel(window, qtbot):
    w, p = window, window.project
    box_id, track = w.video.edits.add_box(1, 0, w.class_id, truth(0))
    _select(w, qtbot, box_id)
    with qtbot.waitSignal(w.video.tracking.finished, timeout=20000) as done:
        w.actions["track_forward"].trigger()
    assert done.args[0].startswith(f"Tracked {GONE - 1} frames; stopped: confidence ")
    assert done.args[0].endswith(f"< 0.50 at frame {GONE}")
    assert [b.frame for b in p.tracks.keyframes(1, track)] == list(range(GONE))

    w.doc.undo_stack.undo()
    w.video.tracking.cancel()                  # nothing running: no harm
    _select(w, qtbot, box_id)
    w.video.tracking.start()
    assert not w.actions["track_forward"].isEnabled()     # one job at a time
    qtbot.waitUntil(lambda: w.video.tracking.progress.isVisible(), timeout=5000)
    with qtbot.waitSignal(w.video.tracking.finished, timeout=20000) as done:
        w.video.tracking.progress.cancel.click()
    assert "stopped: cancelled at frame" in done.args[0]
    assert len(p.tracks.keyframes(1, track)) < GONE
