"""The hyperparameter form is generated from describe() data: editors, limits,
defaults, tooltips, refusal of invalid values; the panel's plain-data inputs."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from training.templates import get_template, list_templates
from widgets.training_panel import HParamForm, TrainingPanel

FIELDS = [
    {"name": "epochs", "type": "int", "default": 12, "help": "Passes.", "range": [1, 1000]},
    {"name": "lr", "type": "float", "default": 0.01, "help": "Rate.", "range": [1e-7, 10.0]},
    {"name": "hflip", "type": "float", "default": 0.5, "help": "Flip.", "range": [0.0, 1.0]},
    {"name": "optimizer", "type": "str", "default": "sgd", "help": "Opt.", "choices": ["sgd", "adamw"]},
    {"name": "amp", "type": "bool", "default": True, "help": "Mixed precision."},
    {"name": "milestones", "type": "floats", "default": [0.67, 0.89], "help": "Steps.",
     "range": [0.0, 1.0]},
    {"name": "pretrained", "type": "str", "default": "coco", "help": "Start.",
     "choices": ["none", "coco"], "or_file": True},
    {"name": "note", "type": "str", "default": "hello", "help": "Free text."},
]


@pytest.fixture
def form(qtbot):
    f = HParamForm()
    qtbot.addWidget(f)
    f.set_fields(FIELDS)
    return f


def test_editor_per_type_with_limits_defaults_and_tooltips(form):
    e = form.editors
    assert isinstance(e["epochs"], QSpinBox)
    assert (e["epochs"].minimum(), e["epochs"].maximum(), e["epochs"].value()) == (1, 1000, 12)
    assert isinstance(e["lr"], QLineEdit) and e["lr"].text() == "0.01"  # log scale: typed
    assert isinstance(e["hflip"], QDoubleSpinBox)
    assert (e["hflip"].minimum(), e["hflip"].maximum(), e["hflip"].value()) == (0.0, 1.0, 0.5)
    assert e["hflip"].decimals() >= 2
    assert isinstance(e["optimizer"], QComboBox)
    assert [e["optimizer"].itemText(i) for i in range(2)] == ["sgd", "adamw"]
    assert isinstance(e["amp"], QCheckBox) and e["amp"].isChecked()
    assert isinstance(e["milestones"], QLineEdit) and e["milestones"].text() == "0.67, 0.89"
    assert isinstance(e["pretrained"], QComboBox) and e["pretrained"].isEditable()
    assert isinstance(e["note"], QLineEdit) and e["note"].text() == "hello"
    assert "Passes." in e["epochs"].toolTip() and "1 … 1000" in e["epochs"].toolTip()
    assert "sgd, adamw" in e["optimizer"].toolTip()
    assert ".pt/.pth" in e["pretrained"].toolTip()
    assert form.is_valid() and form.overrides() == {}
    assert form.values()["amp"] == "true" and form.values()["milestones"] == "0.67, 0.89"


def test_invalid_values_are_refused(form):
    e = form.editors
    e["epochs"].setValue(5000)                       # clamped by the spin box
    assert e["epochs"].value() == 1000
    e["hflip"].setValue(-3)
    assert e["hflip"].value() == 0.0
    e["lr"].setText("20")                            # out of range: not acceptable
    assert form.invalid() == ["lr"]
    e["lr"].setText("1e-4")
    assert form.is_valid() and form.overrides()["lr"] == "1e-4"
    e["lr"].setText("")
    e["lr"].insert("abc")                            # letters never get in
    assert e["lr"].text() == "" and "lr" in form.invalid()
    e["lr"].setText("1e-4")
    e["milestones"].setText("0.5, 1.5")
    assert "milestones" in form.invalid()
    e["milestones"].setText("0.5, 0.75")
    e["pretrained"].setEditText("whatever")
    assert form.invalid() == ["pretrained"]
    e["pretrained"].setEditText("/tmp/start.pth")
    assert form.is_valid()
    assert form.overrides() == {"epochs": "1000", "hflip": "0.0", "lr": "1e-4",
                                "milestones": "0.5, 0.75", "pretrained": "/tmp/start.pth"}


def test_reset_to_defaults(form, qtbot):
    form.editors["epochs"].setValue(3)
    form.editors["optimizer"].setCurrentIndex(1)
    form.editors["amp"].setChecked(False)
    assert set(form.overrides()) == {"epochs", "optimizer", "amp"}
    with qtbot.waitSignal(form.changed):
        form.reset()
    assert form.overrides() == {} and form.editors["epochs"].value() == 12


def test_every_registered_template_builds_a_valid_form(qtbot):
    from training.hparams import parse_overrides

    for spec in list_templates():
        f = HParamForm()
        qtbot.addWidget(f)
        f.set_fields(spec.describe()["hparams"])
        assert f.is_valid(), spec.name
        # the form's text round-trips through the engine's own parser
        hp = parse_overrides(spec.hparams(), [f"{k}={v}" for k, v in f.values().items()])
        assert hp == spec.hparams(), spec.name


def test_panel_lists_tasks_templates_and_shows_data(qtbot):
    from app.runs.data import summary
    from app.runs.devices import device_choices, parse_nvidia_smi

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    templates = [s.describe() for s in list_templates()]
    panel.set_templates(templates)
    tasks = {t["task"] for t in templates}
    assert {panel.task_box.itemText(i) for i in range(panel.task_box.count())} == tasks
    panel.select_template("ssdlite320_mobilenet_v3_large")
    spec = get_template("ssdlite320_mobilenet_v3_large")
    assert panel.description.text() == spec.description and panel.hint.text() == spec.hint
    assert panel.form.editors["min_size"].value() == spec.hparams().min_size

    gpus = parse_nvidia_smi("GPU 0: NVIDIA A100 (UUID: GPU-1)\nGPU 1: NVIDIA A100 (UUID: GPU-2)\n")
    panel.set_devices(device_choices(gpus))
    labels = [panel.device_box.itemText(i) for i in range(panel.device_box.count())]
    assert labels[:2] == ["GPU 0: NVIDIA A100", "GPU 1: NVIDIA A100"]
    assert "all 2 GPUs (torchrun)" in labels and labels[-1] == "CPU"
    panel.device_box.setCurrentIndex(2)
    assert panel.current_device() == ("cuda", 2)

    base = {"images": 4, "boxes": 9, "boxes_per_class": {"cat": 7, "dog": 2}}
    s = summary(base, {"val_fraction": "0.0", "batch_size": "8"})
    panel.set_summary(s)
    text = panel.summary.text()
    assert "dog" in text and "fewer than 5" in text and "no validation images" in text
    assert (s["train"], s["val"]) == (4, 0) and any("batch size" in w for w in s["warnings"])
    assert summary(base, {"val_fraction": "0.25"})["val"] == 1

    with qtbot.waitSignal(panel.train_requested) as got:
        panel.form.set_value("epochs", 3)
        panel.train_button.click()
    assert got.args == ["ssdlite320_mobilenet_v3_large", {"epochs": "3"}, "cuda", 2]
    panel.form.editors["lr"].setText("99")
    assert not panel.train_button.isEnabled()


def test_the_panel_and_controller_start_without_torch(tmp_path):
    """The window must open without torch: building the controller and its panel
    (templates, form, summary, history, device probe) imports none of it."""
    import subprocess
    import sys

    code = (
        "import sys, os; os.environ['QT_QPA_PLATFORM'] = 'offscreen';"
        "from PySide6.QtWidgets import QApplication, QMainWindow; app = QApplication([]);"
        "from app.shell.demo import make_demo; p = make_demo(sys.argv[1], n_images=2, video=False);"
        "from app.runs.controller import TrainingController;"
        "c = TrainingController(QMainWindow(), p); c.panel.select_template('ssdlite320_mobilenet_v3_large');"
        "assert c.panel.form.editors, 'no form';"
        "bad = [m for m in ('torch', 'torchvision') if m in sys.modules]; assert not bad, bad")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "p")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
