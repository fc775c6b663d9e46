"""Label next in a real window with no model yet (cold start): N scores the project in
a child process, then opens the picture most unlike the labelled ones; the browser
orders by the queue; labelling a picture takes it out of the queue."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.shell.window import MainWindow
from app.store.project import Project

N_COPIES = 8           # near-copies of scene 0 (2 of them labelled)
OTHERS = 4             # scenes unlike it


def scene(seed: int, jitter: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.kron(rng.integers(0, 255, (6, 8, 3)), np.ones((16, 16, 1))).astype(np.int16)
    noise = np.random.default_rng(1000 + jitter).integers(-4, 5, base.shape)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    # no ImageNet weights: cold-start features are thumbnails (fast, no download)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(N_COPIES):
        Image.fromarray(scene(0, i)).save(folder / f"a{i}.png")
    for k in range(OTHERS):
        Image.fromarray(scene(k + 1)).save(folder / f"b{k}.png")
    p = Project.create(tmp_path / "proj")
    p.media.import_files([folder])
    ids = {p.media.get(m).name: m for m in p.media.ids()}
    cat = p.classes.ensure("thing")
    for name in ("a0.png", "a1.png"):
        p.boxes.add_one(ids[name], cat, 10, 10, 40, 40)
    w = MainWindow(p)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    w.ids = ids
    yield w
    w.close()
    w.guard.backups.wait(30)     # the closing backup ends before the project does
    p.close()


def key(w, k, mods=Qt.NoModifier):
    w.canvas.setFocus()
    QTest.keyClick(w.windowHandle(), k, mods)


def name(w, media_id):
    return w.project.media.get(media_id).name


def test_n_opens_the_pictures_unlike_the_labelled_ones(window, qtbot):
    w = window
    w.open_media(w.ids["a0.png"])
    key(w, Qt.Key_N)
    qtbot.waitUntil(lambda: w.next.queue is not None and w.media_id != w.ids["a0.png"],
                    timeout=60000)
    q = w.next.queue
    assert q.cold and q.source == "pixels" and q.candidates == N_COPIES + OTHERS - 2
    assert q.scored == q.candidates and q.labelled == 2
    opened = [name(w, w.media_id)]
    for _ in range(3):
        before = w.media_id
        key(w, Qt.Key_N)
        qtbot.waitUntil(lambda: w.media_id != before, timeout=5000)
        opened.append(name(w, w.media_id))
    # 4 scenes unlike the labelled one and 6 near-copies of it: the first picks are the
    # other scenes (a share of random picks may bring one copy in)
    assert len(set(opened)) == 4
    assert sum(n.startswith("b") for n in opened) >= 3
    assert "label next:" in w.statusBar().currentMessage()
    panel = w.next.panel.queue
    assert panel.list.count() == q.candidates
    assert "no model yet: diversity alone (cold start)" in panel.status.text()

    # the browser's order "most useful to label next" follows the queue
    combo = w.browser.order_combo
    combo.setCurrentIndex(next(i for i in range(combo.count()) if combo.itemData(i) == "next"))
    first = q.items[0].media_id
    qtbot.waitUntil(lambda: w.browsing.source.ids and w.browsing.source.ids[0] == first,
                    timeout=10000)

    # labelling a picture takes it out of the queue (ranked again a moment later)
    here = w.media_id
    key(w, Qt.Key_W)
    vp = w.canvas.viewport()
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, w.canvas.viewport_point(10, 10))
    QTest.mouseMove(vp, w.canvas.viewport_point(30, 30))
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, w.canvas.viewport_point(50, 40))
    assert w.project.status.of(here) == "labelled"
    qtbot.waitUntil(lambda: w.next.queue.labelled == 3, timeout=10000)
    assert here not in {i.media_id for i in w.next.queue.items}


def test_near_duplicates_shown_as_groups_and_kept_together(window, qtbot):
    from PySide6.QtWidgets import QDockWidget

    w = window
    docks = {d.windowTitle(): d for d in w.findChildren(QDockWidget)}
    docks["Label next"].raise_()
    tab = w.next.panel.duplicates
    w.next.panel.setCurrentWidget(tab)
    tab.threshold.setValue(0.95)
    qtbot.mouseClick(tab.find_button, Qt.LeftButton)      # scores first (cold start), then finds
    qtbot.waitUntil(lambda: tab.tree.topLevelItemCount() > 0, timeout=60000)
    copies = {w.ids[f"a{i}.png"] for i in range(N_COPIES)}
    assert [set(g) for g in w.next.duplicate_groups] == [copies]   # the other scenes stand alone
    assert "1 groups (8 images)" in tab.status.text()
    box = QPoint(8, tab.keep.height() // 2)               # on the box, not the empty width
    qtbot.mouseClick(tab.keep, Qt.LeftButton, pos=box)
    assert tab.keep.isChecked()
    kept = w.project.next.groups()
    assert set(kept) == copies and len(set(kept.values())) == 1
    qtbot.mouseClick(tab.keep, Qt.LeftButton, pos=box)
    assert w.project.next.groups() == {}
