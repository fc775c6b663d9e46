"""Real tiny trainings started from the panel: progress and chart points arrive, the
run is recorded with its metric, charts replay, cancel leaves a resumable
checkpoint and resume finishes it, failures are recorded and the window lives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.runs import records as runs
from tests.training_panel.helpers import TEMPLATE, TINY, set_values, wait_signal, wait_until

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]


def collect(controller) -> list[dict]:
    events: list[dict] = []
    controller.event_received.connect(lambda _rid, e: events.append(e))
    return events


def test_train_from_the_panel_to_finished(controller, loop, project):
    panel = controller.panel
    events = collect(controller)
    started = []
    controller.run_started.connect(started.append)
    set_values(panel, TINY)
    run_id, status = wait_signal(loop, controller.run_finished, 200, start=panel.train_button.click)
    assert status == "finished" and started == [run_id]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert kinds.count("metrics") == 2 and "progress" in kinds
    counts = panel.charts.point_counts()
    assert counts["loss"] >= 2 and counts["__lr"] >= 2 and counts["map"] == 2 and counts["map50"] == 2
    assert panel.progress.value() == panel.progress.maximum() and panel.train_button.isEnabled()

    run = project.runs.get(run_id)
    assert run.status == "finished" and run.best_metric is not None
    assert run.hyperparameters["epochs"] == "2" and run.dataset["images"] == 8
    assert run.metrics["duration_s"] > 0 and len(run.metrics["history"]) == 2
    row = panel.history.rows[0]
    assert row["id"] == run_id and row["status"] == "finished" and row["has_model"]
    assert panel.history.table.item(0, 3).text() == f"{run.best_metric:.3f}"
    run_dir = Path(row["run_dir"])
    assert (run_dir / "dataset" / "annotations.json").is_file() and (run_dir / "last.pt").is_file()
    assert (run_dir / runs.LOG_FILE).is_file()

    # open it again: the same charts come back from the recorded events
    panel.charts.clear()
    panel.history.select(run_id)
    panel.history.open_button.click()
    assert panel.charts.point_counts() == counts
    with_signal = []
    controller.active_run_changed.connect(with_signal.append)
    panel.history.use_button.click()
    assert with_signal == [run_id] and project.settings.get("active_run") == str(run_id)
    assert controller.active_run() == run_id and panel.history.rows[0]["active"]


def test_cancel_leaves_a_checkpoint_and_resume_finishes(controller, loop, project):
    panel = controller.panel
    events = collect(controller)
    set_values(panel, {**TINY, "epochs": 3})
    wait_until(loop, lambda: any(e["event"] in ("checkpoint", "failed", "finished") for e in events),
               200, start=panel.train_button.click)
    assert events[-1]["event"] == "checkpoint", events[-1]
    assert panel.cancel_button.isEnabled()
    run_id, status = wait_signal(loop, controller.run_finished, 60, start=panel.cancel_button.click)
    assert status == "cancelled", project.runs.get(run_id).message
    cancelled = events[-1]
    assert cancelled["event"] == "cancelled" and Path(cancelled["checkpoint"]).is_file()
    assert project.runs.get(run_id).message.endswith("resumable")
    assert panel.resume_button.isEnabled() and panel.history.rows[0]["resumable"]

    events.clear()
    run_id2, status = wait_signal(loop, controller.run_finished, 200, start=panel.resume_button.click)
    assert (run_id2, status) == (run_id, "finished")
    started = next(e for e in events if e["event"] == "started")
    assert started["resumed_from"] and started["start_epoch"] >= 1
    run = project.runs.get(run_id)
    assert run.status == "finished" and run.message is None and run.best_metric is not None
    assert len(runs.events_of(project, run_id)) > len(events)  # both sessions recorded
    assert len(project.runs.all()) == 1


def test_a_crashing_child_marks_the_run_failed(controller, loop, project):
    panel = controller.panel
    run_dir = project.root / "runs" / "crash"
    run_dir.mkdir(parents=True)
    run_id = project.runs.add(name="crash", task="detector", template=TEMPLATE,
                             run_dir=project.stored_path(run_dir))
    argv = [sys.executable, "-c",
            "import sys; print('loading model', file=sys.stderr); "
            "print('RuntimeError: out of memory', file=sys.stderr); sys.exit(3)"]
    rid, status = wait_signal(loop, controller.run_finished, 60,
                              start=lambda: controller._spawn(controller._follow(run_id, argv, "crash")))
    assert (rid, status) == (run_id, "failed")
    message = project.runs.get(run_id).message
    assert "code 3" in message and "out of memory" in message and "loading model" in message
    assert "failed" in panel.status.text() and "out of memory" in panel.log.toPlainText()
    assert panel.train_button.isEnabled() and not controller.is_training()


def test_a_failed_event_is_recorded_with_its_error(controller, loop, project):
    # An override the form would refuse, sent straight to the trainer: it reports `failed`.
    launch = runs.prepare_run(project, TEMPLATE, {**TINY, "epochs": "0"})
    rid, status = wait_signal(loop, controller.run_finished, 120, start=lambda: controller._spawn(
        controller._follow(launch.run_id, launch.argv, "bad")))
    assert status == "failed"
    message = project.runs.get(rid).message
    assert "epochs" in message and "range" in message
    assert "failed: HParamError" in controller.panel.log.toPlainText()


def test_the_app_refuses_bad_values_before_any_run(controller, project):
    controller.train(TEMPLATE, {"epochs": "0"}, "cpu", 1)
    assert "epochs" in controller.panel.status.text() and project.runs.all() == []


def test_closing_asks_and_stops_the_run(controller, loop, project):
    panel = controller.panel
    events = collect(controller)
    set_values(panel, {**TINY, "epochs": 50})
    wait_until(loop, lambda: any(e["event"] in ("progress", "failed") for e in events), 200,
               start=panel.train_button.click)
    assert events[-1]["event"] == "progress", events[-1]
    controller.answers = [False, True]
    assert controller.confirm_close() is False and controller.is_training()
    closed = []
    # confirm_close turns the event loop itself: call it from a plain callback, as
    # closeEvent would be, not from inside an asyncio task
    wait_until(loop, lambda: closed, 60, start=lambda: closed.append(controller.confirm_close()))
    assert closed == [True] and not controller.is_training()
    run = project.runs.all()[-1]
    assert run.status == "cancelled" and (project.resolve(run.run_dir) / "last.pt").is_file()


def test_summary_follows_label_edits(controller, project, qtbot):
    panel = controller.panel
    panel.window().show()
    before = controller._base["boxes"]
    media = project.media.list()[0]
    cls = project.classes.all()[0]
    project.boxes.add([dict(media_id=media.id, class_id=cls.id, x1=1, y1=1, x2=9, y2=9)])
    controller.data_changed()
    qtbot.waitUntil(lambda: controller._base["boxes"] == before + 1, timeout=3000)
    assert f"<b>{before + 1}</b> boxes" in panel.summary.text()
