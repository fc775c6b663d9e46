"""A small project with labels, a run with a model file, and a stub model behind the
Predictor interface (class_names, predict(frames) -> detections)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from app.store.project import Project
from app.shell.window import MainWindow

# image i: labels (class name, xyxy); the stub predicts per image as below
LABELS = {0: [("cat", (10, 10, 40, 40)), ("dog", (60, 10, 90, 40))],
          1: [("cat", (20, 20, 50, 50))],
          2: []}
# (class index, xyxy, score): image 0 -> 1 TP cat, 1 FP (dog box as cat), dog missed
PREDS = {0: [(0, (11, 10, 40, 41), 0.9), (0, (60, 10, 90, 40), 0.6)],
         1: [(0, (20, 20, 50, 50), 0.95), (1, (0, 60, 30, 90), 0.3)],
         2: []}


@dataclass
class Det:
    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    class_names: list


class StubModel:
    """Predicts PREDS for an image identified by its red channel at (0, 0); sleeps ``delay``."""

    class_names = ["cat", "dog"]

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.calls = 0

    def predict(self, frames, bgr=False, **_kw):
        out = []
        for f in frames:
            time.sleep(self.delay)
            self.calls += 1
            rows = PREDS.get(int(f[0, 0, 0]) // 50, [])
            out.append(Det(np.array([r[1] for r in rows], np.float32).reshape(-1, 4),
                           np.array([r[0] for r in rows], np.int64),
                           np.array([r[2] for r in rows], np.float32), self.class_names))
        return out


def make_project(folder) -> Project:
    project = Project.create(folder)
    img_dir = folder / "imgs"
    img_dir.mkdir()
    for i in LABELS:
        a = np.full((100, 120, 3), 30, np.uint8)
        a[0, 0, 0] = i * 50           # the stub's image key
        Image.fromarray(a).save(img_dir / f"im{i}.png")
    project.media.import_files([img_dir])
    ids = {project.media.get(m).name: m for m in project.media.ids()}
    for i, labels in LABELS.items():
        for name, rect in labels:
            project.boxes.add_one(ids[f"im{i}.png"], project.classes.ensure(name), *rect)
    return project


def add_model_run(project) -> int:
    run_id = project.runs.add(name="#1 stub", task="detector", template="stub", run_dir="")
    run_dir = project.root / "runs" / f"{run_id:04d}-stub"
    run_dir.mkdir(parents=True)
    (run_dir / "best.pt").write_bytes(b"stub")
    project.runs.update(run_id, run_dir=project.stored_path(run_dir), status="finished")
    return run_id


@pytest.fixture
def project(tmp_path):
    p = make_project(tmp_path / "proj")
    yield p
    p.close()


@pytest.fixture
def review_window(qtbot, tmp_path):
    """(window, review controller, stub model, run id) with the stub as the active model."""
    p = make_project(tmp_path / "proj")
    run_id = add_model_run(p)
    p.settings.set("active_run", str(run_id))
    w = MainWindow(p)
    model = StubModel()
    # The window's own controller, with the stub swapped in before any media is shown.
    w.review.factory_for = lambda _run: (lambda: model)
    w.review.set_run(run_id)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w, w.review, model, run_id
    w.close()                      # its close hooks stop the model thread
    p.close()
