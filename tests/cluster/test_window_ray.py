"""The Training tab's Compute choice, end to end on a real local Ray cluster: choose
the cluster, check it (its resources are shown), train a tiny embedder on two Ray
Train workers with its checkpoints kept on cluster storage; closing the window leaves
the job running, the reopened project follows it to its end with every event recorded
once, in order, and *Use this model* downloads the checkpoint."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.cluster.helpers import EMBEDDER, TINY_EMBEDDER, assert_in_order, recorded
from tests.training_panel.helpers import wait_signal, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _window(qtbot, project):
    from PySide6.QtWidgets import QMainWindow

    from app.runs.controller import TrainingController

    window = QMainWindow()
    qtbot.addWidget(window)
    c = TrainingController(window, project, probe_devices=False,
                           ask_stop=lambda text: pytest.fail(f"asked to stop: {text}"))
    window.setCentralWidget(c.panel)
    window.show()
    return c


def test_train_on_the_cluster_close_the_window_and_follow_again(qtbot, loop, project, ray_head,
                                                                trainer_env, tmp_path):
    from app.store.project import Project

    c = _window(qtbot, project)
    panel, box = c.panel, c.panel.compute
    panel.select_template(EMBEDDER)
    for key, value in TINY_EMBEDDER.items():
        panel.form.set_value(key, value)
    assert not box.is_cluster() and not box.cluster_rows.isVisible()
    box.choice.setFocus()
    qtbot.keyClick(box.choice, Qt.Key_Down)           # This machine → Ray cluster
    assert box.is_cluster() and box.cluster_rows.isVisible()
    qtbot.keyClicks(box.address, ray_head.address)
    storage = tmp_path / "cluster-storage"      # a path every node sees (one node here)
    qtbot.keyClicks(box.storage, str(storage))
    qtbot.mouseClick(box.check_button, Qt.LeftButton)
    wait_until(loop, lambda: "CPUs" in box.info.text() or "cannot" in box.info.text(), 60)
    assert "1 node · 2 CPUs · 0 GPUs" in box.info.text()
    assert box.workers.value() == 2

    first = wait_signal(loop, c.event_received, 240,
                        start=lambda: qtbot.mouseClick(panel.train_button, Qt.LeftButton))
    run_id = first[0]
    run = project.runs.get(run_id)
    assert run.dataset["compute"]["address"] == ray_head.address and run.status == "running"

    assert c.confirm_close()                           # no question: the job goes on
    wait_until(loop, lambda: not c.is_training(), 30)
    assert project.runs.get(run_id).status == "running"
    c.panel.window().close()

    # The project reopened: the run is picked up by its job id and followed to its end.
    with Project.open(project.root) as again:
        c2 = _window(qtbot, again)
        assert c2.panel.compute.is_cluster()
        assert c2.panel.compute.address.text() == ray_head.address
        ended = wait_signal(loop, c2.run_finished, 300)
        assert ended == (run_id, "finished"), again.runs.get(run_id).message
        events = recorded(again, run_id)
        assert_in_order(events, "finished")
        assert events[0]["world_size"] == 2 and events[0]["task"] == "embedder"
        run_dir = again.resolve(again.runs.get(run_id).run_dir)
        stored = again.runs.get(run_id).dataset["compute"]["stored"]
        assert sorted(stored["files"]) == ["best.pt", "last.pt"]
        assert (storage / stored["uri"].rsplit("/", 1)[1] / "best.pt").is_file()
        assert not (run_dir / "best.pt").exists()           # it stayed on the cluster
        row = next(r for r in c2.panel.history.rows if r["id"] == run_id)
        assert row["status"] == "finished" and row["compute"] == ray_head.address
        assert row["has_model"]
        history = c2.panel.history
        c2.panel.tabs.setCurrentWidget(history)
        history.select(run_id)
        assert history.use_button.isEnabled()
        wait_until(loop, lambda: again.settings.get("active_run") == str(run_id), 60,
                   start=lambda: qtbot.mouseClick(history.use_button, Qt.LeftButton))
        assert (run_dir / "best.pt").read_bytes() == \
            (storage / stored["uri"].rsplit("/", 1)[1] / "best.pt").read_bytes()
        assert again.settings.get("active_run") == str(run_id)


def test_predict_all_and_embed_follow_the_compute_choice(qtbot, tmp_path, ray_head, trainer_env):
    """With the cluster chosen, the window's Predict all and the Search tab's Embed run
    through Ray Data and store what the local paths store."""
    from app.cluster.settings import set_compute_target
    from app.predictions.core import all_items
    from app.shell.demo import make_demo
    from app.shell.window import MainWindow
    from tests.cluster.helpers import model_runs

    project = make_demo(tmp_path / "proj", n_images=4, video=True)
    detector, _ = model_runs(project, "detector", "ssdlite320_mobilenet_v3_large", [])
    embedder, _ = model_runs(project, "embedder", "embed_resnet18",
                             ["image_size=64", "embedding_size=16"])
    project.settings.set("active_run", str(detector))
    set_compute_target(project, {"address": ray_head.address, "workers": 2, "storage": None})
    w = MainWindow(project)
    qtbot.addWidget(w)
    try:
        w.review.set_run(detector)
        w.review.actions.predict_all()
        batch = w.review.actions.batch
        assert type(batch).__name__ == "ClusterPredictAll"
        qtbot.waitUntil(lambda: not batch.isRunning(), timeout=240000)
        items = all_items(project)
        assert sorted(project.predictions.frames(detector)) == sorted(items)

        search = w.search
        runs = search.panel.runs                         # the person picks the run
        runs.setCurrentIndex(runs.findData(embedder))
        assert search.panel.current_run() == embedder
        qtbot.mouseClick(search.panel.embed_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: not search.embedding, timeout=240000)
        n = project.embeddings.count(embedder)
        assert n > len(items) and f"embedded {n}" in search.panel.status.text()
    finally:
        w.close()
        project.close()
