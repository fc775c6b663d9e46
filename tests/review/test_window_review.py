"""The review controller in a real window, with the stub model on the worker thread."""
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent


def _open(w, qtbot, name):
    mid = next(m for m in w.project.media.ids() if w.project.media.get(m).name == name)
    w.open_media(mid)
    return mid


def _wait_boxes(qtbot, review, n):
    qtbot.waitUntil(lambda: len(review.overlay.boxes()) == n, timeout=5000)


def test_overlay_threshold_classes_and_no_torch(review_window, qtbot):
    w, review, model, run_id = review_window
    _open(w, qtbot, "im0.png")
    _wait_boxes(qtbot, review, 2)
    assert len(review.overlay.visible_boxes()) == 2
    review.panel.slider.setValue(70)
    assert [b.score for b in review.overlay.visible_boxes()] == [0.8999999761581421]
    review.panel.slider.setValue(50)
    cat = w.project.classes.by_name("cat").id
    review.panel.classes.item(0).setCheckState(Qt.Unchecked)
    assert review.panel.hidden() == [cat] and not review.overlay.visible_boxes()
    review.panel.classes.item(0).setCheckState(Qt.Checked)
    review.panel.show_mode.setCurrentIndex(2)          # predictions only
    assert review.overlay.isVisible() and not w.canvas._boxes.isVisible()
    review.panel.show_mode.setCurrentIndex(1)          # labels only
    assert not review.overlay.isVisible()
    review.panel.show_mode.setCurrentIndex(0)
    calls = model.calls
    _open(w, qtbot, "im1.png")
    _open(w, qtbot, "im0.png")                           # cached in the store: no new call
    _wait_boxes(qtbot, review, 2)
    qtbot.wait(100)
    assert model.calls == calls + 1


def test_review_colours_counts_and_sort(review_window, qtbot):
    w, review, _model, run_id = review_window
    m0 = _open(w, qtbot, "im0.png")
    _wait_boxes(qtbot, review, 2)
    review.panel.review.setChecked(True)
    statuses = sorted(b.status for b in review.overlay.boxes())
    assert statuses == ["fn", "fp", "tp"]
    review.actions.predict_all()
    qtbot.waitUntil(lambda: not review.panel.cancel.isEnabled(), timeout=10000)
    review.panel.sort.setChecked(True)           # counted off the GUI thread, then laid over
    qtbot.waitUntil(lambda: w.source.marks is not None and w.source.marks.heaviest_first,
                    timeout=5000)
    src = w.source
    assert src.marks.weight[m0] == 2 and src.ids[0] == m0        # 1 FP + 1 missed
    assert src.row(0).status == "review: 1 TP · 1 FP · 1 missed"
    review.panel.only.setChecked(True)
    qtbot.waitUntil(lambda: w.source.ids == [m0], timeout=5000)
    review.panel.review.setChecked(False)                       # marks come off
    qtbot.waitUntil(lambda: w.source.marks is None and len(w.source.ids) == 3, timeout=5000)


def test_accept_by_double_click_is_undoable(review_window, qtbot):
    w, review, _model, _run = review_window
    m0 = _open(w, qtbot, "im0.png")
    _wait_boxes(qtbot, review, 2)
    before = len(w.project.boxes.labels(m0))
    pos = QPointF(w.canvas.viewport_point(75, 25))
    ev = QMouseEvent(QEvent.MouseButtonDblClick, pos, pos, Qt.LeftButton, Qt.LeftButton,
                     Qt.NoModifier)
    assert review.eventFilter(w.canvas.viewport(), ev)   # consumed: the canvas never sees it
    labels = w.project.boxes.labels(m0)
    assert len(labels) == before + 1 and labels[-1].source == "manual"
    assert labels[-1].rect == (60, 10, 90, 40) and labels[-1].score is None
    w.doc.undo_stack.undo()
    assert len(w.project.boxes.labels(m0)) == before
    ids = review.actions.accept_shown()
    assert len(ids) == 2 and len(w.project.boxes.labels(m0)) == before + 2
    w.doc.undo_stack.undo()
    assert len(w.project.boxes.labels(m0)) == before


def test_stale_answers_are_dropped(review_window, qtbot):
    w, review, model, run_id = review_window
    model.delay = 0.3
    ids = w.project.media.ids()
    live = review.live
    live.show(ids[0], 0, str(w.project.media.path(ids[0])))
    qtbot.wait(50)                                     # the model is busy with image 0
    live.show(ids[1], 0, str(w.project.media.path(ids[1])))   # pending, replaced next
    live.show(ids[2], 0, str(w.project.media.path(ids[2])))
    qtbot.waitUntil(lambda: w.project.predictions.has(run_id, ids[2]), timeout=5000)
    assert live.worker.dropped == 1                    # image 1 never reached the model
    assert not w.project.predictions.has(run_id, ids[1])
    assert live.stale_answers == 1                     # image 0's answer: stored, not drawn
    assert w.project.predictions.has(run_id, ids[0])
    assert review.overlay.boxes() == []                # image 2 has no predictions


def test_predict_all_progress_and_cancel(review_window, qtbot):
    w, review, model, run_id = review_window
    model.delay = 0.4
    review.actions.batch_size = 1
    seen = []
    review.panel.progress.valueChanged.connect(seen.append)
    review.actions.predict_all()
    qtbot.waitUntil(lambda: review.panel.progress.isVisible(), timeout=3000)
    qtbot.waitUntil(lambda: review.panel.progress.maximum() == 3, timeout=3000)
    review.actions.cancel()
    qtbot.waitUntil(lambda: not review.panel.cancel.isEnabled(), timeout=5000)
    done = len(w.project.predictions.frames(run_id))
    assert done < 3
    model.delay = 0.0
    review.actions.predict_all()
    qtbot.waitUntil(lambda: not review.panel.cancel.isEnabled(), timeout=5000)
    assert len(w.project.predictions.frames(run_id)) == 3


def test_metrics_dialog(review_window, qtbot):
    w, review, _model, run_id = review_window
    review.actions.predict_all()
    qtbot.waitUntil(lambda: len(w.project.predictions.frames(run_id)) == 3, timeout=5000)
    qtbot.waitUntil(lambda: not review.panel.cancel.isEnabled(), timeout=5000)
    review.actions.show_metrics()                 # computed off the GUI thread
    qtbot.waitUntil(lambda: review.actions.dialog is not None and review.actions.dialog.isVisible(),
                    timeout=10000)
    dialog = review.actions.dialog
    assert "all labelled frames" in dialog.scope.text()
    assert dialog.ap_table.rowCount() == 2 and dialog.confusion.rowCount() == 3
    # cat: label 0 (TP), label 1 (TP); the dog box predicted as cat: label dog -> pred cat
    assert dialog.confusion.item(1, 0).text() == "1" and dialog.confusion.item(0, 0).text() == "2"


class Evil:
    """Any class instance in a checkpoint makes it unloadable with weights_only."""


def test_refuses_untrusted_checkpoint(review_window, qtbot, tmp_path):
    import torch

    w, review, _model, _run = review_window
    bad = tmp_path / "evil.pt"
    torch.save({"format": "kestrel.detector", "obj": Evil()}, bad)
    runs = len(w.project.runs.all())
    review.actions.import_checkpoint(str(bad))   # checked off the GUI thread
    qtbot.waitUntil(lambda: "arbitrary Python objects" in getattr(w, "last_message", ""),
                    timeout=60000)
    assert len(w.project.runs.all()) == runs


def _model_knowing_bird(model):
    from tests.review import conftest

    model.class_names = ["cat", "dog", "bird"]     # the project has no "bird"
    conftest.PREDS[2] = [(2, (5, 5, 30, 30), 0.8)]


def test_a_model_class_the_project_lacks_is_asked_for_not_added_silently(review_window, qtbot,
                                                                          monkeypatch):
    from tests.review import conftest

    monkeypatch.setitem(conftest.PREDS, 2, [])
    w, review, model, run_id = review_window
    _model_knowing_bird(model)
    asked = []
    review.actions.ask_add_classes = lambda names: asked.append(names) or False
    m2 = _open(w, qtbot, "im2.png")
    qtbot.waitUntil(lambda: w.project.predictions.has(run_id, m2), timeout=5000)
    assert asked == [["bird"]]
    assert w.project.classes.by_name("bird") is None            # nothing added behind the back
    assert w.project.predictions.boxes(run_id, m2) == []        # its predictions are left out
    assert "left out" in w.statusBar().currentMessage()


def test_adding_the_model_classes_is_an_undoable_edit(review_window, qtbot, monkeypatch):
    from tests.review import conftest

    monkeypatch.setitem(conftest.PREDS, 2, [])
    w, review, model, run_id = review_window
    _model_knowing_bird(model)
    review.actions.ask_add_classes = lambda names: True
    _open(w, qtbot, "im2.png")
    qtbot.waitUntil(lambda: w.project.classes.by_name("bird") is not None, timeout=5000)
    tree = w.panels.classes_panel.tree
    assert "bird" in [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert w.doc.undo_stack.undoText() == "Add class bird"
    w.doc.undo_stack.undo()
    assert w.project.classes.by_name("bird") is None


def test_predictions_on_a_picture_not_labelled_are_proposals_not_errors(review_window, qtbot):
    from PySide6.QtTest import QTest

    w, review, _model, run_id = review_window
    m1 = _open(w, qtbot, "im1.png")
    w.doc.delete_boxes([b.id for b in w.project.boxes.labels(m1)])   # not labelled any more
    assert w.project.status.of(m1) == "unlabelled"
    review.panel.review.setChecked(True)
    review.actions.predict_all()
    qtbot.waitUntil(lambda: not review.panel.cancel.isEnabled(), timeout=10000)
    qtbot.waitUntil(lambda: [b.status for b in review.overlay.boxes()] == ["proposal"] * 2,
                    timeout=5000)
    review.panel.sort.setChecked(True)
    qtbot.waitUntil(lambda: w.source.marks is not None and w.source.marks.heaviest_first,
                    timeout=5000)
    assert m1 not in w.source.marks.weight and m1 not in w.source.marks.status
    assert not w.source.row(w.source.index_of(m1)).status          # no red "!" badge
    from app.review.evaluation import media_counts
    assert m1 not in media_counts(w.project, run_id, 0.5)
    qtbot.waitUntil(lambda: review.panel.hint.text() == "Predicted: all 1 labelled picture(s).",
                    timeout=5000)                                    # im0; im1 and im2 are not

    w.canvas.setFocus()
    QTest.keyClick(w.windowHandle(), Qt.Key_E)                        # "no objects here"
    assert w.project.status.of(m1) == "empty"
    qtbot.waitUntil(lambda: [b.status for b in review.overlay.boxes()] == ["fp"],
                    timeout=5000)                                    # now a mistake (0.95 cat)
    qtbot.waitUntil(lambda: w.source.marks.weight.get(m1) == 1, timeout=5000)   # one above 0.5


def test_the_newest_finished_run_is_chosen_when_none_is_active(qtbot, tmp_path):
    from app.shell.window import MainWindow
    from tests.review.conftest import add_model_run, make_project

    p = make_project(tmp_path / "proj")
    older = add_model_run(p)
    newer = add_model_run(p)
    assert p.settings.get("active_run") is None
    w = MainWindow(p)
    qtbot.addWidget(w)
    assert w.review.panel.runs.currentData() == newer != older
    assert w.review.live.run_id == newer and p.settings.get("active_run") == str(newer)
    w.close()
    p.close()
