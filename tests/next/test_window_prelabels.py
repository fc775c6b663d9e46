"""Pre-labels in a real window, by mouse and keys: the model's boxes show dashed on a
picture not labelled yet; a click accepts one, Enter accepts all, a drag makes an
edited label, Ctrl+click + Delete dismisses; Ctrl+Z undoes each; the status bar counts."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from app.shell.window import MainWindow
from app.store.project import Project
from tests.review.conftest import Det, add_model_run

# picture key (red channel at (0, 0) // 50) -> (class index, xyxy, score)
PREDS = {1: [(0, (10, 10, 40, 40), 0.9), (1, (60, 20, 100, 60), 0.8), (0, (5, 60, 20, 90), 0.2)]}


class Stub:
    class_names = ["cat", "dog"]

    def predict(self, frames, bgr=False, **_kw):
        out = []
        for f in frames:
            rows = PREDS.get(int(f[0, 0, 0]) // 50, [])
            out.append(Det(np.array([r[1] for r in rows], np.float32).reshape(-1, 4),
                           np.array([r[0] for r in rows], np.int64),
                           np.array([r[2] for r in rows], np.float32), self.class_names))
        return out


@pytest.fixture
def window(qtbot, tmp_path):
    p = Project.create(tmp_path / "proj")
    (tmp_path / "imgs").mkdir()
    for i in range(2):
        a = np.full((100, 120, 3), 30, np.uint8)
        a[0, 0, 0] = i * 50
        Image.fromarray(a).save(tmp_path / "imgs" / f"im{i}.png")
    p.media.import_files([tmp_path / "imgs"])
    ids = {p.media.get(m).name: m for m in p.media.ids()}
    p.boxes.add_one(ids["im0.png"], p.classes.ensure("cat"), 10, 10, 40, 40)   # im0 labelled
    p.classes.ensure("dog")
    run_id = add_model_run(p)
    p.settings.set("active_run", str(run_id))
    w = MainWindow(p)
    w.review.factory_for = lambda _run: (lambda: Stub())
    w.review.set_run(run_id)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    w.ids = ids
    yield w
    w.close()
    w.guard.backups.wait(30)     # the closing backup ends before the project does
    p.close()


def at(w, x, y) -> QPointF:
    return QPointF(w.canvas.viewport_point(x, y))


def key(w, k, mods=Qt.NoModifier):
    w.canvas.setFocus()
    QTest.keyClick(w.windowHandle(), k, mods)


def click(w, x, y, mods=Qt.NoModifier):
    QTest.mouseClick(w.canvas.viewport(), Qt.LeftButton, mods, at(w, x, y).toPoint())


def drag(w, a, b):
    vp = w.canvas.viewport()
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, at(w, *a).toPoint())
    for t in (0.25, 0.5, 0.75, 1.0):
        p = at(w, a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t).toPoint()
        QTest.mouseMove(vp, p)
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, at(w, *b).toPoint())


def rects(w, media):
    return sorted(tuple(round(v) for v in b.rect) for b in w.project.boxes.labels(media))


def shown(w):
    """Rects of the proposals drawn on the canvas."""
    return sorted(tuple(round(v) for v in w.next.prelabels._shown[i].rect)
                  for i in w.next.prelabels.shown_ids())


def open_unlabelled(w, qtbot):
    m = w.ids["im1.png"]
    w.open_media(m)
    qtbot.waitUntil(lambda: len(w.next.prelabels.shown_ids()) == 2, timeout=10000)
    return m


def test_proposals_show_dashed_above_the_threshold_only_where_not_labelled(window, qtbot):
    w = window
    m = open_unlabelled(w, qtbot)
    assert shown(w) == [(10, 10, 40, 40), (60, 20, 100, 60)]          # 0.2 is under 0.5
    drawn = [s for s in w.canvas.boxes() if s.source == "proposal"]
    assert sorted(tuple(round(v) for v in (s.x1, s.y1, s.x2, s.y2)) for s in drawn) == shown(w)
    assert not w.review.overlay.visible_boxes()       # not drawn twice
    assert rects(w, m) == []
    w.open_media(w.ids["im0.png"])                    # labelled: no proposals
    qtbot.wait(200)
    assert w.next.prelabels.shown_ids() == []


def test_click_accepts_one_and_ctrl_z_puts_it_back(window, qtbot):
    w = window
    m = open_unlabelled(w, qtbot)
    click(w, 25, 25)
    qtbot.waitUntil(lambda: rects(w, m) == [(10, 10, 40, 40)], timeout=3000)
    assert w.project.boxes.labels(m)[0].source == "manual"
    assert shown(w) == [(60, 20, 100, 60)]
    assert w.project.status.of(m) == "labelled"
    assert "1 accepted · 0 edited · 0 deleted" in w.status.proposals_label.text()
    key(w, Qt.Key_Z, Qt.ControlModifier)
    qtbot.waitUntil(lambda: rects(w, m) == [], timeout=3000)
    assert len(shown(w)) == 2
    assert w.status.proposals_label.text() == ""           # nothing decided: hidden


def test_enter_accepts_all_shown_in_one_undoable_step(window, qtbot):
    w = window
    m = open_unlabelled(w, qtbot)
    key(w, Qt.Key_Return)
    qtbot.waitUntil(lambda: rects(w, m) == [(10, 10, 40, 40), (60, 20, 100, 60)], timeout=3000)
    names = {c.id: c.name for c in w.project.classes.all()}
    assert sorted(names[b.class_id] for b in w.project.boxes.labels(m)) == ["cat", "dog"]
    assert shown(w) == []
    assert "2 accepted" in w.status.proposals_label.text()
    key(w, Qt.Key_Z, Qt.ControlModifier)
    qtbot.waitUntil(lambda: rects(w, m) == [], timeout=3000)
    assert len(shown(w)) == 2


def test_moving_a_proposal_makes_an_edited_label(window, qtbot):
    w = window
    m = open_unlabelled(w, qtbot)
    drag(w, (80, 40), (90, 45))                       # the dog proposal, moved by (10, 5)
    qtbot.waitUntil(lambda: len(rects(w, m)) == 1, timeout=3000)
    (r,) = rects(w, m)
    assert r == pytest.approx((70, 25, 110, 65), abs=2)
    assert [tuple(p.rect) for p in w.project.predictions.boxes(w.next.prelabels.run_id, m, 0)
            if p.score > 0.5] == [(10, 10, 40, 40), (60, 20, 100, 60)]   # the model's stay
    assert shown(w) == [(10, 10, 40, 40)]
    assert "0 accepted · 1 edited · 0 deleted" in w.status.proposals_label.text()
    key(w, Qt.Key_Z, Qt.ControlModifier)
    qtbot.waitUntil(lambda: rects(w, m) == [] and len(shown(w)) == 2, timeout=3000)


def test_delete_dismisses_a_proposal(window, qtbot):
    w = window
    m = open_unlabelled(w, qtbot)
    click(w, 80, 40, Qt.ControlModifier)             # select without accepting
    qtbot.wait(50)
    assert rects(w, m) == [] and len(w.canvas.selected_ids()) == 1
    key(w, Qt.Key_Delete)
    qtbot.waitUntil(lambda: shown(w) == [(10, 10, 40, 40)], timeout=3000)
    assert rects(w, m) == []
    assert len(w.project.predictions.boxes(w.next.prelabels.run_id, m, 0)) == 3   # kept
    assert "0 accepted · 0 edited · 1 deleted" in w.status.proposals_label.text()
    w.open_media(w.ids["im0.png"])                    # a dismissed proposal stays dismissed
    w.open_media(m)
    qtbot.waitUntil(lambda: shown(w) == [(10, 10, 40, 40)], timeout=3000)
    key(w, Qt.Key_Z, Qt.ControlModifier)
    qtbot.waitUntil(lambda: len(shown(w)) == 2, timeout=3000)


def test_a_class_key_on_a_selected_proposal_makes_a_label_of_that_class(window, qtbot):
    w = window
    m = open_unlabelled(w, qtbot)
    click(w, 80, 40, Qt.ControlModifier)             # the dog proposal
    key(w, Qt.Key_1)                                 # class 1: cat
    qtbot.waitUntil(lambda: rects(w, m) == [(60, 20, 100, 60)], timeout=3000)
    names = {c.id: c.name for c in w.project.classes.all()}
    assert [names[b.class_id] for b in w.project.boxes.labels(m)] == ["cat"]
    assert len(w.project.predictions.boxes(w.next.prelabels.run_id, m, 0)) == 3   # kept
    assert "0 accepted · 1 edited · 0 deleted" in w.status.proposals_label.text()


def test_enter_in_a_field_stays_the_fields(window, qtbot):
    from PySide6.QtWidgets import QLineEdit

    w = window
    m = open_unlabelled(w, qtbot)
    field = next(e for e in w.findChildren(QLineEdit) if e.isVisible() and e.isEnabled())
    fired = []
    field.returnPressed.connect(lambda: fired.append(1))
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    QTest.keyClick(w.windowHandle(), Qt.Key_Return)
    assert fired == [1] and rects(w, m) == [] and len(shown(w)) == 2
    key(w, Qt.Key_Return)                            # on the canvas it accepts them
    qtbot.waitUntil(lambda: len(rects(w, m)) == 2, timeout=3000)
