"""The review panel says how many labelled pictures the model has predicted. It is
recounted when that can change (a live answer on a labelled picture, Predict all, a
new model), not on every page turn: the recount reads every box and prediction, and
paging through a project being scored in the background stalled on it."""
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest


def _page(w):
    w.canvas.setFocus()
    QTest.keyClick(w.windowHandle(), Qt.Key_D)          # Next media


def test_coverage_follows_live_answers_not_page_turns(review_window, qtbot):
    w, review, _model, _run_id = review_window
    recounts = []
    real = review.actions.update_coverage
    review.actions.update_coverage = lambda: recounts.append(w.media_id) or real()
    names = {m: w.project.media.get(m).name for m in w.project.media.ids()}
    w.open_media(next(m for m, n in names.items() if n == "im0.png"))
    qtbot.waitUntil(lambda: review.panel.hint.text().startswith(
        "The model has predicted 1 of 2 labelled pictures"), timeout=5000)
    _page(w)                                            # im1: labelled, answered live
    assert names[w.media_id] == "im1.png"
    qtbot.waitUntil(lambda: review.panel.hint.text() == "Predicted: all 2 labelled picture(s).",
                    timeout=5000)
    n = len(recounts)
    _page(w)                                            # im2: not labelled
    qtbot.waitUntil(lambda: w.project.predictions.has(review.live.run_id, w.media_id, 0),
                    timeout=5000)
    seen = []
    for name in ("im0.png", "im1.png", "im2.png"):      # back through them: all answered
        w.open_media(next(m for m, n in names.items() if n == name))
        seen.append(names[w.media_id])
    qtbot.wait(100)
    assert seen == ["im0.png", "im1.png", "im2.png"]
    assert len(recounts) == n, recounts                 # page turns recount nothing
    assert review.panel.hint.text() == "Predicted: all 2 labelled picture(s)."
