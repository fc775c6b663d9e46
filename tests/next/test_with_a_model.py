"""Label next with a small real detector trained on generated shapes (ssdlite at 64 px,
two epochs, no downloaded weights): ``kestrel next`` ranks by the model's uncertainty
and caches it, ``kestrel suspects`` checks the run's validation pictures,
``kestrel duplicates`` groups a near-copy, and Keep training fine-tunes the active
model after K new labels and records the chain."""
from __future__ import annotations

import json
import os
import shutil

import cv2
import pytest

from app.shell.cli import main
from app.shell.demo import make_demo
from app.store.project import Project
from tests.training_panel.conftest import loop  # noqa: F401  (fixture)
from tests.training_panel.helpers import TEMPLATE, TINY, wait_until

pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]
N_IMAGES = 24
LEFT = range(12, N_IMAGES)         # images 12..23 are not labelled


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(project folder, run id, media ids not labelled, id of the near-copy)."""
    tmp = tmp_path_factory.mktemp("next_model")
    env = {"OMP_NUM_THREADS": "1", "TORCH_HOME": str(tmp / "torch_home")}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    p = make_demo(tmp / "proj", n_images=N_IMAGES, video=False)
    images = [m for m in p.media.list() if m.kind == "image"]
    left = [images[i].id for i in LEFT]
    p.boxes.delete([b.id for m in left for b in p.boxes.of(m)])
    p.status.clear_empty([(m, 0) for m in left])
    # a near-copy of image 0 (labelled like it): one near-duplicate group
    src = p.resolve(images[0].path)
    img = cv2.imread(str(src))
    img[:4, :4] = 255 - img[:4, :4]
    copy = src.with_name("copy_of_000.jpg")
    cv2.imwrite(str(copy), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
    report = p.media.import_files([copy])
    assert not report.skipped, report.skipped
    copy_id = next(m.id for m in p.media.list() if m.name == copy.name)
    p.boxes.add([dict(media_id=copy_id, class_id=b.class_id, x1=b.x1, y1=b.y1, x2=b.x2, y2=b.y2)
                 for b in p.boxes.labels(images[0].id)])
    root = str(p.root)
    p.close()
    sets = [a for k, v in {**TINY, "epochs": 2}.items() for a in ("--set", f"{k}={v}")]
    assert main(["train", root, "--template", TEMPLATE, *sets, "--device", "cpu", "--quiet"]) == 0
    yield tmp / "proj", 1, left, copy_id
    for k, v in saved.items():
        os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def copy_project(src, dst) -> None:
    """A copy of a closed project (not SQLite's shared-memory file of the original)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*-shm", "*-wal", "*.lock"))


def run_json(capsys, *argv) -> dict:
    assert main([*argv, "--json", "--quiet", "--device", "cpu"]) == 0
    return json.loads(capsys.readouterr().out)


def test_next_ranks_by_the_models_uncertainty_and_caches_it(trained, capsys):
    folder, run, left, _copy = trained
    out = run_json(capsys, "next", str(folder), "--run", str(run), "-n", "12",
                   "--random-share", "0")
    assert out["run"] == run and out["features"] == f"run:{run}"
    assert out["candidates"] == len(left) and out["labelled"] == N_IMAGES - len(left) + 1
    items = out["items"]
    assert sorted(i["media_id"] for i in items) == sorted(left)
    assert all(0 <= i["score"] <= 1 and i["reason"] == "uncertain" for i in items)
    scores = sorted((i["score"] for i in items), reverse=True)
    first_batch = [i["score"] for i in items[:4]]
    assert min(first_batch) >= scores[len(scores) // 2]    # the unsure half comes first
    with Project.open(folder) as p:
        assert p.next.scored(run) == {(m, 0) for m in left}       # cached per model
        assert all(p.predictions.has(run, m, 0) for m in left)    # pre-labels ready
        from app.next.scoring import score_project

        assert score_project(p, run, device="cpu")["total"] == 0   # nothing left to score
        # labelling one takes it out of the queue; nothing is scored again
        first = items[0]["media_id"]
        p.boxes.add_one(first, p.classes.all()[0].id, 1, 1, 20, 20)
    again = run_json(capsys, "next", str(folder), "--run", str(run), "-n", "50")
    assert again["candidates"] == len(left) - 1
    assert first not in {i["media_id"] for i in again["items"]}
    with Project.open(folder) as p:                  # undo the label for the other tests
        p.boxes.delete([b.id for b in p.boxes.labels(first)])


def test_suspects_checks_the_pictures_the_run_did_not_train_on(trained, capsys):
    folder, run, _left, _copy = trained
    out = run_json(capsys, "suspects", str(folder), "--run", str(run), "-n", "0")
    with Project.open(folder) as p:
        from app.next.suspects import held_out

        held = held_out(p, run)
        assert held and out["checked"] == len(held)
        assert all(p.predictions.has(run, *k) for k in held)
    assert {(s["media_id"], s["frame"]) for s in out["suspects"]} <= set(held)
    assert all(s["kind"] in ("missed", "spurious", "class", "box") for s in out["suspects"])
    weights = [s["weight"] for s in out["suspects"]]
    assert weights == sorted(weights, reverse=True)


def test_duplicates_groups_the_near_copy(trained, capsys):
    folder, run, _left, copy = trained
    # features of the pictures themselves: two epochs from random weights tell nothing apart
    out = run_json(capsys, "duplicates", str(folder), "--run", "none", "--threshold", "0.98",
                   "--keep-together")
    assert out["features"] == "pixels"
    groups = [{m["media_id"] for m in g} for g in out["groups"]]
    with Project.open(folder) as p:
        first = p.media.list()[0].id
        assert {first, copy} in groups                     # and nothing else with them
        kept = p.next.groups()
        assert kept[first] == kept[copy]
        p.next.set_groups([])


def test_keep_training_fine_tunes_after_k_labels_and_records_the_chain(trained, tmp_path, qtbot,
                                                                      loop, monkeypatch):  # noqa: F811
    from PySide6.QtWidgets import QMainWindow

    from app.next.retrain import KeepTraining
    from app.runs.controller import TrainingController
    from app.tasks.worker import ProjectWorker

    folder, run, left, _copy = trained
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    copy_project(folder, tmp_path / "proj")       # the other tests keep theirs
    p = Project.open(tmp_path / "proj")
    p.settings.set("active_run", str(run))
    window = QMainWindow()
    qtbot.addWidget(window)
    training = TrainingController(window, p, probe_devices=False)
    window.setCentralWidget(training.panel)
    worker = ProjectWorker(p.root, window, "test-keep")
    keep = KeepTraining(p, training, worker, window)
    lines: list[str] = []
    keep.chain_changed.connect(lines.append)
    keep.configure(True, 2, 1)                         # every 2 new labels, 1 epoch
    wait_until(loop, lambda: any("0 new labelled" in t for t in lines), 30)
    cls = p.classes.all()[0].id
    for m in left[:2]:                                 # the user labels two pictures
        p.boxes.add_one(m, cls, 2, 2, 30, 30)
        keep.labels_changed()
    wait_until(loop, lambda: training.is_training() or len(p.runs.all()) > 1, 60)
    wait_until(loop, lambda: any("active" in t and ("now the active" in t or "stays" in t)
                                 for t in lines), 400)
    child = max(r.id for r in p.runs.all())
    chain = p.runs.get(child).dataset["chain"]
    assert chain["parent"] == run and chain["new_labels"] == 2
    assert chain["verdict"] in ("active", "kept")
    assert chain["map"] is not None and chain["parent_map"] is not None and chain["compared_on"] > 0
    assert p.runs.get(child).hyperparameters["pretrained"].endswith(".pt")
    assert (p.settings.get("active_run") == str(child)) == (chain["verdict"] == "active")
    assert (chain["verdict"] == "active") == (chain["map"] >= chain["parent_map"] - 1e-9)
    # the run history shows the chain
    history = training.panel.history
    rows = {r["id"]: r for r in history.rows}
    from widgets.training_panel.history import chain_text

    assert chain_text(rows[child]).startswith(f"fine-tuned from #{run} with 2 new labelled")
    cell = history.table.item([r["id"] for r in history.rows].index(child), 0)
    assert f"← #{run}" in cell.text() and "fine-tuned from" in cell.toolTip()
    keep.shutdown()
    worker.shutdown()
    p.close()


def test_check_labels_in_the_window_opens_a_suspect_highlighted(trained, tmp_path, qtbot,
                                                               monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDockWidget

    from app.next.suspects import held_out
    from app.shell.window import MainWindow

    folder, run, _left, _copy = trained
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    copy_project(folder, tmp_path / "proj")
    p = Project.open(tmp_path / "proj")
    p.settings.set("active_run", str(run))
    p.predictions.clear(run)                 # the held-out pictures are predicted first
    w = MainWindow(p)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    try:
        w.review.set_run(run)
        docks = {d.windowTitle(): d for d in w.findChildren(QDockWidget)}
        docks["Label next"].raise_()
        tab = w.next.panel.suspects
        w.next.panel.setCurrentWidget(tab)
        qtbot.mouseClick(tab.find_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: tab.list.count() > 0 and "probable errors" in tab.status.text(),
                        timeout=120000)
        held = held_out(p, run)
        assert all(p.predictions.has(run, *k) for k in held)     # by the child job
        assert f"on {len(held)} labelled pictures" in tab.status.text()
        s = w.next.suspects[1] if len(w.next.suspects) > 1 else w.next.suspects[0]
        row = 1 if len(w.next.suspects) > 1 else 0
        rect = tab.list.visualItemRect(tab.list.item(row))
        tab.list.scrollToItem(tab.list.item(row))
        # a double click as the window system sends it: press, release, double-click, release
        qtbot.mouseClick(tab.list.viewport(), Qt.LeftButton, pos=rect.center())
        qtbot.mouseDClick(tab.list.viewport(), Qt.LeftButton, pos=rect.center())
        qtbot.waitUntil(lambda: w.media_id == s.media_id, timeout=5000)
        assert w.next.highlight.region == pytest.approx(s.rect)
        assert w.next.highlight.isVisible()
        other = next(m for m in p.media.ids() if m != s.media_id)
        w.open_media(other)                   # the highlight belongs to that picture
        qtbot.waitUntil(lambda: w.next.highlight.region is None, timeout=3000)
    finally:
        w.close()
        w.guard.backups.wait(30)
        p.close()


def test_n_opens_the_queue_head_with_the_models_proposals(trained, tmp_path, qtbot, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.shell.window import MainWindow

    folder, run, left, _copy = trained
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    copy_project(folder, tmp_path / "proj")
    p = Project.open(tmp_path / "proj")
    p.settings.set("active_run", str(run))
    w = MainWindow(p)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    try:
        w.review.set_run(run)
        w.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
        qtbot.wait(200)
        w.canvas.setFocus()
        QTest.keyClick(w.windowHandle(), Qt.Key_N)
        qtbot.waitUntil(lambda: w.next.queue is not None and w.media_id in left, timeout=120000)
        q = w.next.queue
        assert q.run_id == run and w.media_id == q.items[0].media_id
        m = w.media_id
        preds = p.predictions.boxes(run, m, 0)        # stored by the scoring job
        assert preds
        top = max(b.score for b in preds)
        w.review.panel.slider.setValue(int(top * 100))     # a threshold some pass
        want = sorted(b.id for b in preds if b.score >= w.review.panel.threshold())
        qtbot.waitUntil(lambda: sorted(w.next.prelabels.shown_ids()) == want, timeout=5000)
        assert {s.source for s in w.canvas.boxes()} == {"proposal"}
        w.canvas.setFocus()
        QTest.keyClick(w.windowHandle(), Qt.Key_Return)
        qtbot.waitUntil(lambda: len(p.boxes.labels(m)) == len(want), timeout=5000)
        assert p.status.of(m) == "labelled" and not w.next.prelabels.shown_ids()
        assert f"proposals: {len(want)} accepted" in w.status.proposals_label.text()
        before = m
        QTest.keyClick(w.windowHandle(), Qt.Key_N)            # on to the next one
        qtbot.waitUntil(lambda: w.media_id != before, timeout=10000)
        assert w.media_id in left and p.status.of(w.media_id) == "unlabelled"
    finally:
        w.close()
        w.guard.backups.wait(30)
        p.close()


def test_suspects_with_folds_checks_every_labelled_picture(trained, tmp_path, capsys):
    folder, run, _left, _copy = trained
    copy_project(folder, tmp_path / "proj")
    root = str(tmp_path / "proj")
    out = run_json(capsys, "suspects", root, "--run", str(run), "--folds", "2", "-n", "0")
    with Project.open(root) as p:
        folds = [r for r in p.runs.all() if (r.dataset or {}).get("fold_of") == run]
        assert sorted(r.dataset["fold"] for r in folds) == [0, 1]
        assert all(r.status == "finished" and r.template == TEMPLATE for r in folds)
        labelled = p.status.labelled_pictures()
        assert out["checked"] == len(labelled)          # every one, by the fold that held it out
        held = {}
        for r in folds:
            coco = json.loads((p.resolve(r.run_dir) / "dataset" / "annotations.json").read_text())
            held[r.id] = {im["file_name"] for im in coco["images"] if im["kestrel_split"] == "val"}
        assert not held[folds[0].id] & held[folds[1].id]
        assert sum(map(len, held.values())) == len(labelled)
    assert {s["run_id"] for s in out["suspects"]} <= {r.id for r in folds}
    # a second call trains nothing more
    run_json(capsys, "suspects", root, "--run", str(run), "--folds", "2")
    with Project.open(root) as p:
        assert len([r for r in p.runs.all() if (r.dataset or {}).get("fold_of") == run]) == 2
