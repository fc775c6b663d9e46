"""One real model: train a tiny detector on the project's export (1 epoch, no
pretrained weights), predict with `kestrel predict`, load the COCO results with
pycocotools, and see its predictions overlaid in the window."""
import contextlib
import io
import json

import pytest

from app.runs import records as runs
from app.shell.cli import main as kestrel
from app.store.exporter import export_project
from app.shell.window import MainWindow
from tests.review.conftest import make_project

pytestmark = pytest.mark.slow
TINY = {"epochs": "1", "batch_size": "2", "min_size": "64", "max_size": "96", "pretrained": "none",
        "workers": "0", "warmup_iters": "2", "val_fraction": "0.34"}


def test_train_predict_cli_and_window(tmp_path, qtbot):
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO

    from training.cli import main as trainer

    project = make_project(tmp_path / "proj")
    launch = runs.prepare_run(project, "fasterrcnn_mobilenet_v3_large_320_fpn", TINY, device="cpu")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert trainer(launch.argv[3:] + ["--progress-interval", "0"]) == 0
    for line in out.getvalue().splitlines():
        runs.record_event(project, launch.run_id, json.loads(line))
    assert project.runs.get(launch.run_id).status == "finished"
    project.close()

    root = tmp_path / "proj"
    res = tmp_path / "results.json"
    assert kestrel(["predict", str(root), "--run", str(launch.run_id), "--coco-results", str(res),
                    "--device", "cpu", "--score", "0", "--quiet"]) == 0
    project = type(project).open(root)
    assert len(project.predictions.frames(launch.run_id)) == 3
    # results carry every predicted image: the export that has them all
    export_project(project, tmp_path / "ds", "coco", copy_images=False, include_unlabelled=True)
    results = json.loads(res.read_text())
    gt = COCO(str(tmp_path / "ds" / "annotations.json"))
    assert results    # an untrained model at score 0 still boxes something
    assert len(gt.loadRes(str(res)).getAnnIds()) == len(results)
    # the split the trainer used is known again: 1 of the 2 labelled images held out
    from app.review.evaluation import val_items
    assert len(val_items(project, project.runs.get(launch.run_id))) == 1

    project.predictions.clear(launch.run_id)            # the window predicts afresh, live
    project.settings.set("active_run", str(launch.run_id))
    w = MainWindow(project)
    review = w.review                                   # the window's own controller
    qtbot.addWidget(w)
    w.show()
    review.panel.slider.setValue(0)
    w.open_media(project.media.ids()[0])
    qtbot.waitUntil(lambda: project.predictions.has(launch.run_id, project.media.ids()[0]),
                    timeout=60000)
    qtbot.waitUntil(lambda: "ms" in review.panel.stats.text(), timeout=5000)
    shown = len(project.predictions.boxes(launch.run_id, project.media.ids()[0]))
    assert len(review.overlay.boxes()) == shown
    w.close()                                           # stops the model thread
    project.close()
