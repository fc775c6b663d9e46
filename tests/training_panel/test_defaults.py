"""The first click's defaults in the window: the template whose weights are here is
preselected with a time budget on a CPU, templates that would start from random
weights are marked and Train asks first, the download question is asked once,
Model → Weights… downloads from a (loopback) mirror, the bar shows the time left."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from tests.weights_server import WeightsServer, weights_file
from training import weights_catalog
from training.templates import get_template
from training.weights_catalog import file_of

MNV2 = "MobileNet_V2_Weights.IMAGENET1K_V1"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A hub cache holding only the offline MobileNetV2 file (as the benchmark's machine)."""
    from training.weights import cache_dir

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.delenv("KESTREL_ALLOW_DOWNLOAD", raising=False)
    monkeypatch.delenv("KESTREL_WEIGHTS_MIRROR", raising=False)
    folder = cache_dir()
    folder.mkdir(parents=True)
    (folder / file_of(MNV2)).write_bytes(b"stand-in")
    return folder


def make_controller(qtbot, project, **kw):
    from app.runs.controller import TrainingController

    window = QMainWindow()
    qtbot.addWidget(window)
    c = TrainingController(window, project, probe_devices=False, **kw)
    window.setCentralWidget(c.panel)
    return c


def template_items(panel) -> dict[str, str]:
    box = panel.template_box
    return {box.itemData(i): box.itemText(i) for i in range(box.count())}


def test_the_template_whose_weights_are_here_is_preselected(qtbot, project, home):
    from app.runs.devices import device_choices

    c = make_controller(qtbot, project)
    panel = c.panel
    assert panel.current_template()["name"] == "fasterrcnn_mobilenet_v2"
    assert panel.form.values()["time_budget"] == "10.0"         # on a CPU: train for 10 minutes
    assert panel.form.overrides() == {"time_budget": "10.0"}
    assert "fasterrcnn_mobilenet_v2" in panel.status.text()
    items = template_items(panel)
    assert items["fasterrcnn_mobilenet_v2"] == "fasterrcnn_mobilenet_v2"
    assert items["fasterrcnn_resnet50_fpn_v2"].endswith("⚠ random start")
    assert "ImageNet backbone weights (present)" in panel.hint.text()
    # a GPU appears: its best template with weights here is the same, trained for epochs
    panel.set_devices(device_choices([(0, "NVIDIA A100")]))
    assert panel.current_template()["name"] == "fasterrcnn_mobilenet_v2"
    assert panel.form.values()["time_budget"] == "0.0"
    # the user picks a template: a device change no longer moves it, only its suggestions
    panel.select_template("ssdlite320_mobilenet_v3_large")
    panel.device_box.setCurrentIndex(panel.device_box.findText("CPU"))
    panel.device_box.activated.emit(panel.device_box.currentIndex())   # as a user's pick
    assert panel.current_template()["name"] == "ssdlite320_mobilenet_v3_large"
    assert panel.form.values()["time_budget"] == "10.0"


def test_a_project_of_tags_without_boxes_preselects_an_embedder(qtbot, tmp_path, home):
    from tests.embedding.conftest import make_project

    project, _run, _truth = make_project(tmp_path, None, per_class=2, untagged=0)
    for cls in project.classes.all():     # tags only: no box classes, no boxes
        project.classes.delete(cls.id)
    try:
        c = make_controller(qtbot, project)
        assert c.panel.task_box.currentText() == "embedder"
        assert c.panel.current_template()["name"] == "embed_mobilenet_v2"
        assert c.panel.form.values()["source"] == "tags"
        text = c.panel.summary.text()
        assert "circle" in text and "label some objects" not in text
    finally:
        project.close()


def test_train_with_a_random_start_asks_first(qtbot, project, home):
    asked: list[str] = []
    c = make_controller(qtbot, project, ask_random_start=lambda text: asked.append(text) or False)
    panel = c.panel
    panel.select_template("fasterrcnn_resnet50_fpn_v2")   # no COCO nor ResNet-50 file here
    qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    assert len(asked) == 1 and "RANDOM" in asked[0] and "Train anyway?" in asked[0]
    assert project.runs.all() == [] and not c.is_training()
    assert "not started" in panel.status.text()
    # pretrained=none is asked for: nothing to warn about
    assert c.first_click.start_accepted(get_template("fasterrcnn_resnet50_fpn_v2"), "none")
    assert len(asked) == 1


def test_the_download_question_is_asked_once(qtbot, project, home):
    from app.runs.weights import WeightsController

    questions, warnings = [], []
    host = QMainWindow()
    qtbot.addWidget(host)
    weights = WeightsController(host, None, ask=lambda text: questions.append(text) or True,
                                env={})
    c = make_controller(qtbot, project, weights=weights,
                        ask_random_start=lambda text: warnings.append(text) or False)
    c.panel.select_template("fasterrcnn_resnet50_fpn_v2")
    spec = get_template("fasterrcnn_resnet50_fpn_v2")
    assert c.first_click.start_accepted(spec, None)          # allowed: it will be downloaded, no warning
    assert len(questions) == 1 and "Allow downloads?" in questions[0] and warnings == []
    assert weights.policy().allow_download and weights.trainer_env()["KESTREL_ALLOW_DOWNLOAD"] == "1"
    assert "will be downloaded" in c.panel.current_template()["start_note"]
    assert "random start" not in template_items(c.panel)["fasterrcnn_resnet50_fpn_v2"]
    c.first_click.start_accepted(spec, None)
    assert len(questions) == 1                    # asked once, remembered


def test_model_weights_downloads_from_a_mirror(qtbot, project, home, monkeypatch):
    from app.runs.weights import WeightsController

    name, data = weights_file("resnet18-test")
    ref = "ResNet18_Weights.IMAGENET1K_V1"          # served under a generated stand-in
    monkeypatch.setitem(weights_catalog.FILES, ref, (name, len(data) / 2**20))
    host = QMainWindow()
    qtbot.addWidget(host)
    weights = WeightsController(host, None, ask=lambda text: False, env={})
    c = make_controller(qtbot, project, weights=weights)
    random = {t["name"]: t["random_start"] for t in c.panel.templates}
    assert random["embed_resnet18"]
    with WeightsServer({f"models/{name}": data}) as server:
        dialog = weights.show_dialog()
        rows = [r["template"] for r in dialog.rows]
        row = rows.index("embed_resnet18")
        assert dialog.table.item(row, 2).text() == "missing"
        dialog.mirror.setText(server.base + "models")
        dialog.mirror.editingFinished.emit()
        assert weights.policy().mirror == server.base + "models"
        assert not dialog.download_button.isEnabled()            # nothing chosen yet
        dialog.table.selectRow(row)
        with qtbot.waitSignal(weights.changed, timeout=30000):
            qtbot.mouseClick(dialog.download_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: not weights.busy(), timeout=30000)
        assert server.requests == [f"models/{name}"]
    assert dialog.table.item(row, 2).text() == "present"
    assert (home / name).read_bytes() == data
    assert "downloaded 1 file" in dialog.status.text()
    # the training panel follows: embed_resnet18 no longer starts from random weights
    c.panel.select_template("embed_resnet18")
    assert template_items(c.panel)["embed_resnet18"] == "embed_resnet18"
    assert "ImageNet backbone weights (present)" in c.panel.hint.text()
    qtbot.mouseClick(dialog.allow, Qt.LeftButton)
    assert weights.policy().allow_download and weights.decided()


def test_the_progress_bar_shows_the_time_left(qtbot):
    from widgets.training_panel import TrainingPanel

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.run_started(1, "#1")
    panel.show_event({"event": "started", "device": "cpu", "epochs": 1000, "steps_per_epoch": 33,
                      "time_budget_s": 600.0, "start": "imagenet", "train_images": 131,
                      "val_images": 33})
    assert "for 10 min (time budget)" in panel.log.toPlainText()
    assert "from ImageNet backbone weights" in panel.log.toPlainText()
    panel.show_event({"event": "progress", "epoch": 2, "step": 5, "steps": 33, "loss": 0.5,
                      "losses": {}, "lr": 0.01, "images_per_s": 4.0, "eta_s": 450.0,
                      "progress": 0.25})
    assert panel.progress.value() == 250
    assert panel.progress.format().endswith("7:30 left")


def test_the_model_menu_opens_the_weights_view(qtbot, project, home):
    from PySide6.QtWidgets import QMenu

    from app.shell.window import MainWindow

    window = MainWindow(project)
    qtbot.addWidget(window)
    model = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Model")
    action = next(a for a in model.actions() if a.text() == "&Weights…")
    action.trigger()
    dialog = window.weights.dialog
    assert dialog is not None and dialog.isVisible()
    row = next(i for i, r in enumerate(dialog.rows) if r["template"] == "fasterrcnn_mobilenet_v2")
    assert dialog.table.item(row, 2).text() == "present"
    assert dialog.table.item(row, 4).text() == str(home / file_of(MNV2))
    window.training.panel.select_template("fasterrcnn_mobilenet_v2")
    window.close()
