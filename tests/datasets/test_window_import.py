"""Import and export from the window: a worker does the work, the preview is driven
with real clicks, Cancel keeps nothing."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QWidget

from app.datasets.controller import DatasetsController
from app.store.project import Project

from .builders import coco, img, write


@pytest.fixture
def ctl(qtbot, tmp_path):
    project = Project.create(tmp_path / "proj")
    parent = QWidget()
    qtbot.addWidget(parent)
    c = DatasetsController(project, parent)
    c.events = []
    c.imported.connect(lambda: c.events.append("imported"))
    c.message.connect(c.events.append)
    yield c
    c.shutdown()
    project.close()


def _rf(tmp_path, n=3):
    d = tmp_path / "rf"
    for split, k in (("train", n), ("valid", 1)):
        for i in range(k):
            img(d / split / "images" / f"{split}{i}.jpg")
            write(d / split / "labels" / f"{split}{i}.txt", "0 0.5 0.5 0.4 0.4\n1 0.2 0.2 0.1 0.1\n")
    write(d / "data.yaml", "names: [ant, bee, wasp]\n")
    return d


def _wait_preview(qtbot, ctl):
    qtbot.waitUntil(lambda: ctl.preview is not None and ctl.job is None, timeout=20000)
    return ctl.preview


def test_drop_shows_the_preview_and_import_brings_the_dataset_in(qtbot, ctl, tmp_path):
    ctl.import_paths([str(_rf(tmp_path))])
    preview = _wait_preview(qtbot, ctl)
    text = preview.summary.text()
    assert "YOLO" in text and "train 3, val 1" in text and "ant, bee, wasp" in text
    assert "wasp (kept)" in text and ctl.project.media.count() == 0   # nothing written yet
    qtbot.mouseClick(preview.import_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "imported" in ctl.events, timeout=20000)
    assert ctl.project.media.count() == 4 and ctl.project.info()["boxes"] == 8
    assert "imported 4 images, 8 boxes" in ctl.events
    assert ctl.project.media.splits() and set(ctl.project.media.splits().values()) == {"train", "val"}


def test_cancel_in_the_preview_imports_nothing(qtbot, ctl, tmp_path):
    ctl.import_paths([str(_rf(tmp_path))])
    preview = _wait_preview(qtbot, ctl)
    qtbot.mouseClick(preview.buttons.button(QDialogButtonBox.StandardButton.Cancel), Qt.LeftButton)
    qtbot.wait(200)
    assert ctl.project.media.count() == 0 and "imported" not in ctl.events


def test_a_choice_between_sources_is_made_in_the_preview(qtbot, ctl, tmp_path):
    d = tmp_path / "both"
    for f in ("a.jpg", "b.jpg"):
        img(d / "images" / f)
    coco(d / "instances_one.json", ["images/a.jpg", "images/b.jpg"], boxes_per_image=1)
    coco(d / "instances_two.json", ["images/a.jpg", "images/b.jpg"], boxes_per_image=3)
    ctl.import_paths([str(d)])
    preview = _wait_preview(qtbot, ctl)
    assert not preview.import_button.isEnabled()
    [group] = preview._groups
    two = next(b for b in group.buttons() if "instances_two" in b.text())
    assert "6 boxes" in two.text()
    qtbot.mouseClick(two, Qt.LeftButton)
    qtbot.waitUntil(lambda: ctl.job is None and preview.import_button.isEnabled(), timeout=20000)
    qtbot.mouseClick(preview.import_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "imported" in ctl.events, timeout=20000)
    assert ctl.project.info()["boxes"] == 6


def test_cancel_during_the_import_keeps_nothing(qtbot, ctl, tmp_path, monkeypatch):
    import app.store.probe as probe

    real = probe.probe

    def slow(path):
        time.sleep(0.02)
        return real(path)

    monkeypatch.setattr(probe, "probe", slow)
    ctl.import_paths([str(_rf(tmp_path, n=150))])
    preview = _wait_preview(qtbot, ctl)
    qtbot.mouseClick(preview.import_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: ctl.progress is not None and ctl.progress.value() > 0, timeout=20000)
    cancel = ctl.progress.findChild(type(preview.import_button))
    qtbot.mouseClick(cancel, Qt.LeftButton)
    qtbot.waitUntil(lambda: ctl.job is None, timeout=20000)
    assert "cancelled: nothing was changed" in ctl.events and "imported" not in ctl.events
    assert ctl.project.media.count() == 0 and ctl.project.classes.all() == []


def test_export_runs_on_the_worker_and_refuses_a_folder_that_is_not_an_export(qtbot, ctl, tmp_path):
    img(tmp_path / "m" / "a.png")
    img(tmp_path / "m" / "b.png")
    ids = ctl.project.media.import_files([tmp_path / "m"]).added
    ctl.project.status.set_mark(ids[0], 0, "empty")    # a.png: labelled, no objects
    ctl.export(str(tmp_path / "out"), "yolo")
    qtbot.waitUntil(lambda: ctl.job is None, timeout=20000)
    assert (tmp_path / "out" / "data.yaml").is_file()
    assert (tmp_path / "out" / "labels" / "a.txt").read_text() == ""   # a true negative
    assert not (tmp_path / "out" / "images" / "b.png").exists()         # not labelled: left out
    assert any(e.startswith("exported 1 images") and "1 not labelled left out" in e
               for e in ctl.events), ctl.events
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("mine")
    ctl.export(str(tmp_path / "precious"), "coco")
    assert ctl.job is None and "not a Kestrel export" in ctl.last_message
    assert (tmp_path / "precious" / "thesis.tex").read_text() == "mine"
    ctl.export(str(tmp_path / "out"), "coco", overwrite=True)
    qtbot.waitUntil(lambda: ctl.job is None, timeout=20000)
    assert (tmp_path / "out" / "annotations.json").is_file()


def test_media_files_import_without_a_preview_and_actions_have_their_shortcuts(qtbot, ctl, tmp_path):
    a = img(tmp_path / "x" / "a.png")
    ctl.import_paths([str(a)])
    qtbot.waitUntil(lambda: "imported" in ctl.events, timeout=20000)
    assert ctl.preview is None and ctl.project.media.count() == 1
    keys = {k: a.shortcut().toString() for k, a in ctl.actions().items()}
    assert keys == {"import_media": "Ctrl+I", "import_labels": "Ctrl+Shift+I", "export": "Ctrl+E"}
