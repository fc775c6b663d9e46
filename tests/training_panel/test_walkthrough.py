"""The walk a new user takes, by mouse and keys in the real window: import 40 photos
and a clip, label 10 photos and mark 2 as showing no objects, train from the Training
tab (the run holds those 12 only), review a model on a project where most pictures
are not labelled (no false positive on them), then on the clip draw one object on
frame 10 and on frame 40 (11–39 interpolated) and step with Shift+Right while its box
is selected (the frame changes, the box does not)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget

from app.review.evaluation import media_counts
from app.runs.records import DATASET_DIR
from app.shell.window import MainWindow
from app.store.project import Project
from tests.review.conftest import Det
from tests.training_panel.helpers import TINY, set_values, wait_signal
from tests.video import clips
from tests.widgets.conftest import drag

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]


class EverywhereModel:
    """A model that finds one object in the middle of every picture, right or wrong."""

    class_names = ["thing"]

    def predict(self, frames, **_kw):
        out = []
        for f in frames:
            h, w = f.shape[:2]
            out.append(Det(np.array([[w * 0.25, h * 0.25, w * 0.75, h * 0.75]], np.float32),
                           np.array([0]), np.array([0.9], np.float32), self.class_names))
        return out


@pytest.fixture
def window(qtbot, tmp_path, loop, trainer_env):
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(40):
        a = np.full((72, 96, 3), 90, np.uint8)
        x, y = rng.integers(5, 50), rng.integers(5, 30)
        a[y:y + 30, x:x + 40] = (220, 60, 40)
        Image.fromarray(a).save(photos / f"photo_{i:02d}.png")
    clips.write_cv2(photos / "street.avi", "MJPG", 60)
    project = Project.create(tmp_path / "proj")
    project.classes.add("thing")
    w = MainWindow(project)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.photos = photos
    yield w
    if w.training.is_training():
        w.training.stop_and_wait(30)
    w.close()
    project.close()


def key(w, k, mods=Qt.NoModifier):
    w.canvas.setFocus()
    QTest.keyClick(w.windowHandle(), k, mods)


def at(w, x, y) -> QPointF:
    return QPointF(w.canvas.viewport_point(x, y))


def test_a_new_users_walk(window, qtbot, loop):
    w, p = window, window.project
    # -- import 40 photos and a clip: they come in not labelled ------------------------
    w.import_paths([str(w.photos)])
    qtbot.waitUntil(lambda: w.datasets.preview is not None and w.datasets.job is None,
                    timeout=20000)
    qtbot.mouseClick(w.datasets.preview.import_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(w.browsing.ids) == 41, timeout=30000)
    w.activateWindow()                       # the preview has closed: back to the window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    assert p.status.image_counts()["unlabelled"] == 40

    # -- label 10 by mouse, mark 2 as "no objects" (E), skip the rest ------------------
    key(w, Qt.Key_Home)
    for i in range(12):
        media = w.media_id
        assert p.media.get(media).name == f"photo_{i:02d}.png"
        if i < 10:
            key(w, Qt.Key_W)
            drag(w.canvas.viewport(), at(w, 10, 10), at(w, 50, 40))
            assert p.status.of(media) == "labelled"
        else:
            key(w, Qt.Key_E)
            assert p.status.of(media) == "empty"
        key(w, Qt.Key_D)
        qtbot.waitUntil(lambda: w.media_id != media, timeout=5000)

    # -- train from the Training tab: the run holds the 12 labelled photos only --------
    docks = {d.windowTitle(): d for d in w.findChildren(QDockWidget)}
    docks["Training"].raise_()
    panel = w.training.panel
    w.training.refresh()
    assert "<b>12</b> labelled images (2 with no objects)" in panel.summary.text()
    assert "left out: 28 not labelled yet image(s)" in panel.summary.text()
    set_values(panel, {**TINY, "epochs": 1})
    run_id, status = wait_signal(loop, w.training.run_finished, 240,
                                 start=lambda: qtbot.mouseClick(panel.train_button, Qt.LeftButton))
    assert status == "finished", p.runs.get(run_id).message
    coco = json.loads((p.resolve(p.runs.get(run_id).run_dir) / DATASET_DIR /
                       "annotations.json").read_text())
    names = sorted(im["file_name"] for im in coco["images"])
    assert names == [f"photo_{i:02d}.png" for i in range(12)]
    with_boxes = {a["image_id"] for a in coco["annotations"]}
    assert len(coco["annotations"]) == 10 and len(with_boxes) == 10     # + 2 negatives

    # -- review with a model that boxes every picture: no FP on the 28 not labelled -----
    model = EverywhereModel()
    w.review.factory_for = lambda _run: (lambda: model)
    w.review.set_run(run_id)
    w.review.panel.review.setChecked(True)
    w.review.actions.predict_all()
    qtbot.waitUntil(lambda: len(p.predictions.frames(run_id)) >= 40, timeout=60000)
    qtbot.waitUntil(lambda: not w.review.panel.cancel.isEnabled(), timeout=60000)
    counts = media_counts(p, run_id, 0.5)
    unlabelled = set(w.browsing.source.ids) - {m for m, _ in p.status.labelled_pictures()}
    assert len(unlabelled) == 29 and not unlabelled & set(counts)       # 28 photos + the clip
    assert len(counts) == 12 and sum(c[1] for c in counts.values()) == 12   # 1 FP each
    key(w, Qt.Key_End)
    key(w, Qt.Key_A)                                                    # photo_39: not labelled
    qtbot.waitUntil(lambda: [b.status for b in w.review.overlay.boxes()] == ["proposal"],
                    timeout=10000)

    # -- the clip: one object on frame 10 and frame 40, then Shift+Right ----------------
    w.review.set_run(None)
    key(w, Qt.Key_End)
    qtbot.waitUntil(lambda: w.annotator.media_id == w.video.media_id is not None
                    and w.canvas.image_size()[0] > 0, timeout=10000)
    for target in (10, 40):
        while w.annotator.frame < target:
            here = w.annotator.frame
            key(w, Qt.Key_Right, Qt.ShiftModifier if target - here >= 10 else Qt.NoModifier)
            qtbot.waitUntil(lambda: w.annotator.frame > here, timeout=5000)
        key(w, Qt.Key_W)
        x = 20 if target == 10 else 80
        drag(w.canvas.viewport(), at(w, x, 20), at(w, x + 40, 60))
    clip = w.video.media_id
    (track,) = p.tracks.ids(clip)
    boxes = {b.frame: b for b in p.tracks.boxes(clip, track)}
    assert sorted(boxes) == list(range(10, 41))
    assert {boxes[f].source for f in range(11, 40)} == {"interpolated"}
    assert boxes[25].x1 == pytest.approx(50, abs=1)                      # half way across
    selected = w.canvas.selected_ids()
    assert selected == [boxes[40].id]
    rect = p.boxes.get(boxes[40].id).rect
    key(w, Qt.Key_Right, Qt.ShiftModifier)
    qtbot.waitUntil(lambda: w.annotator.frame == 50, timeout=5000)
    assert p.boxes.get(boxes[40].id).rect == rect                        # the box stayed
    shutil.rmtree(w.photos, ignore_errors=True)
