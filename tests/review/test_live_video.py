"""Playing a clip with live predictions through the real window: every frame is shown
in order, the (slower) model only gets the newest frame whenever it is free, and the
overlay (or the proposals on the canvas) ends on the last frame's own predictions."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.store.project import Project
from app.shell.window import MainWindow
from tests.review.conftest import PREDS, StubModel, add_model_run

FRAMES, FPS = 30, 25.0


@pytest.fixture
def video_window(qtbot, tmp_path):
    project = Project.create(tmp_path / "proj")
    clip = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (96, 64))
    for i in range(FRAMES):   # uniform grey frames: the stub answers PREDS[0] for each
        writer.write(np.full((64, 96, 3), 30, np.uint8))
    writer.release()
    project.media.import_files([clip])
    for name in StubModel.class_names:
        project.classes.ensure(name)
    run_id = add_model_run(project)
    project.settings.set("active_run", str(run_id))
    w = MainWindow(project)
    model = StubModel(delay=0.15)              # ~6 predictions/s against a 25 fps clip
    w.review.factory_for = lambda _run: (lambda: model)
    w.review.set_run(run_id)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    yield w, model, run_id
    w.close()
    project.close()


def test_playback_shows_every_frame_while_the_model_takes_the_newest(video_window, qtbot):
    w, model, run_id = video_window
    media_id = w.project.media.ids()[0]
    w.open_media(media_id)
    qtbot.waitUntil(lambda: w.video.player.current == 0, timeout=5000)
    shown, rates = [], []
    w.video.player.frame_shown.connect(shown.append)
    # the model's rate is shown beside the timeline while the clip plays, not on the picture
    w.review.live.stats_changed.connect(lambda _t: rates.append(w.video.timeline.info.text()))
    w.video.player.set_playing(True)
    qtbot.waitUntil(lambda: not w.video.player.playing, timeout=20000)   # stops at the end
    assert rates and all(t.startswith("model ") and " fps · " in t for t in rates[:-1])
    assert w.video.timeline.info.text() == ""                            # not once it stops

    assert shown == sorted(shown) and shown[-1] == FRAMES - 1            # in order, to the end
    predicted = {f for m, f in w.project.predictions.frames(run_id, media_id)}
    assert predicted and predicted <= set(shown) | {0}
    assert model.calls < len(shown)          # frames were dropped for the model, not the display
    # The last frame gets its own answer; the overlay then shows exactly its predictions.
    qtbot.waitUntil(lambda: w.project.predictions.has(run_id, media_id, FRAMES - 1), timeout=10000)
    expected = [p for p in PREDS[0] if p[2] >= w.review.panel.threshold()]
    # (on a frame not labelled yet they are offered on the canvas as proposals instead of
    # being drawn by the overlay: shown once, in one place or the other)
    qtbot.waitUntil(lambda: len(w.review.overlay.visible_boxes())
                    + len(w.annotator.proposals.shown_ids()) == len(expected), timeout=5000)
    assert not w.review.overlay.stale
