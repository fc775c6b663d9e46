"""Render the window at its default size (1400x900) offscreen in the states people see
most, to look at what is cut off: ``python tests/app/window_screenshots.py OUT_DIR
[PROJECT]``. Without PROJECT a small demo project is made, with a recorded run (real
event shapes, made-up numbers) so the charts, history and metrics have content.

Writes OUT_DIR/<state>.png: labelling, training-setup, training-run,
training-history, predictions, search, tags, metrics.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def recorded_run(project) -> int:
    """A finished detector run with the events a real one writes (charts, history)."""
    from app.runs.records import EVENTS_FILE, record_event

    run_id = project.runs.add(name="fasterrcnn_mobilenet_v2", task="detector",
                              template="fasterrcnn_mobilenet_v2", run_dir="",
                              hyperparameters={"epochs": "12", "min_size": "288"},
                              dataset={"images": 48, "boxes": 131})
    run_dir = project.root / "runs" / f"{run_id:04d}-fasterrcnn_mobilenet_v2"
    run_dir.mkdir(parents=True)
    project.runs.update(run_id, run_dir=project.stored_path(run_dir),
                        name=f"#{run_id} fasterrcnn_mobilenet_v2")
    (run_dir / EVENTS_FILE).write_text("")
    t = 1000.0
    record_event(project, run_id, {"event": "started", "time": t, "device": "cpu", "epochs": 12,
                                   "steps_per_epoch": 10, "train_images": 39, "val_images": 9})
    for epoch in range(12):
        for step in range(10):
            loss = 2.0 / (1 + epoch + step / 10)
            record_event(project, run_id, {
                "event": "progress", "epoch": epoch, "step": step + 1, "steps": 10, "loss": loss,
                "losses": {"loss_classifier": loss * 0.4, "loss_box_reg": loss * 0.3,
                           "loss_objectness": loss * 0.2, "loss_rpn_box_reg": loss * 0.1},
                "lr": 0.01 * (1 - epoch / 12), "time": t})
        m = min(0.75, 0.08 * (epoch + 1))
        record_event(project, run_id, {"event": "metrics", "epoch": epoch, "map": m / 2,
                                       "map50": m, "per_class": {"circle": m, "square": m / 2}})
    (run_dir / "best.pt").write_bytes(b"placeholder: never loaded by these screenshots")
    record_event(project, run_id, {"event": "finished", "time": t + 980, "best_map": 0.37})
    return run_id


def main() -> None:
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication, QDockWidget, QTabWidget

    from app.shell.demo import make_demo
    from app.shell.window import MainWindow
    from app.store.project import Project

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "shots")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    tmp = tempfile.TemporaryDirectory()
    if len(sys.argv) > 2:
        project = Project.open(sys.argv[2])
    else:
        project = make_demo(Path(tmp.name) / "demo", n_images=24)
        recorded_run(project)
    w = MainWindow(project)
    w.resize(1400, 900)
    w.show()
    w.restore_last_media()

    def settle() -> None:
        for _ in range(3):
            app.processEvents()
            QThreadPool.globalInstance().waitForDone(3000)
        app.processEvents()

    def shot(name: str, widget=None) -> None:
        settle()
        (widget or w).grab().save(str(out / f"{name}.png"))
        print(f"saved {out / name}.png")

    docks = {d.windowTitle(): d for d in w.findChildren(QDockWidget)}
    shot("labelling")
    docks["Training"].raise_()
    panel = w.training.panel
    shot("training-setup")
    runs = project.runs.all()
    if runs:
        w.training.open_run(runs[-1].id)
    panel.tabs.setCurrentIndex(1)
    shot("training-run")
    panel.tabs.setCurrentIndex(2)
    shot("training-history")
    docks["Predictions"].raise_()
    shot("predictions")
    docks["Search"].raise_()
    shot("search")
    docks["Tags"].raise_()
    shot("tags")
    if runs:
        from app.review.evaluation import evaluate_run

        ev, scope, n = evaluate_run(project, runs[-1], 0.5, 0.5)
        w.review.actions._show_dialog(runs[-1].name, ev, scope, n,
                                      json.loads(json.dumps({"circle": 0.41, "square": 0.33})),
                                      project.classes.all(), 0.5, 0.5)
        for tab in range(3):
            w.review.actions.dialog.findChild(QTabWidget).setCurrentIndex(tab)
            shot(f"metrics-{tab}", w.review.actions.dialog)
    w.close()
    project.close()


if __name__ == "__main__":
    main()
