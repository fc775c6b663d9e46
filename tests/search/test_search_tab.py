"""The Search tab as a person uses it: filters, the store field, selecting results
and labelling them in one undoable step; the window stays live while a search runs."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage

from widgets.search_panel import Neighbour, SearchPanel
from tests.search.helpers import make_search_project


def click_item(qtbot, panel, row: int, modifier=Qt.NoModifier) -> None:
    rect = panel.grid.visualItemRect(panel.grid.item(row))
    qtbot.mouseClick(panel.grid.viewport(), Qt.LeftButton, modifier, rect.center())


def choose(qtbot, combo, text: str) -> None:
    """Pick an entry the way a keyboard user does: focus, then arrow keys."""
    combo.setFocus()
    target = combo.findText(text)
    assert target >= 0, text
    key = Qt.Key_Down if target > combo.currentIndex() else Qt.Key_Up
    while combo.currentIndex() != target:
        qtbot.keyClick(combo, key)


@pytest.fixture
def panel(qtbot):
    p = SearchPanel()
    qtbot.addWidget(p)
    p.resize(460, 700)
    p.set_runs([(1, "#1 emb")])
    p.set_choices([(7, "bees"), (8, "wasps")], [(3, "cat"), (4, "dog")])
    p.show()
    return p


def test_filter_row_and_store_field(panel, qtbot):
    f = panel.filters
    with qtbot.waitSignal(panel.filters_changed):
        choose(qtbot, f.tag, "wasps")
    choose(qtbot, f.split, "val")
    choose(qtbot, f.status, "Unlabelled")
    choose(qtbot, f.media, "Videos")
    assert f.values() == {"tag": "wasps", "cls": None, "split": "val", "labelled": False,
                          "media": "video"}
    panel.set_choices([(8, "wasps"), (9, "moths")], [(3, "cat")])   # the choice survives
    assert f.values()["tag"] == "wasps"
    with qtbot.waitSignal(panel.filters_changed):
        qtbot.mouseClick(f.clear_button, Qt.LeftButton)
    assert set(f.values().values()) == {None}
    s = panel.store
    qtbot.keyClicks(s.spec, "qdrant://localhost:6333")
    qtbot.keyClicks(s.key, "secret")
    assert s.key.echoMode() == s.key.EchoMode.Password
    with qtbot.waitSignal(panel.store_requested) as sig:
        qtbot.mouseClick(s.use_button, Qt.LeftButton)
    assert sig.args == ["qdrant://localhost:6333", "secret"]
    s.spec.clear()
    with qtbot.waitSignal(panel.store_requested) as sig:
        qtbot.keyClick(s.spec, Qt.Key_Return)
    assert sig.args[0] == "embedded"


def test_select_results_then_label_them(panel, qtbot):
    thumb = QImage(20, 20, QImage.Format_RGB32)
    panel.set_results([Neighbour(5, "a.png", 0.9, thumb, ("image", 5, 0, 0)),
                       Neighbour(6, "box 3 · b.png", 0.8, thumb, ("box", 6, 0, 3)),
                       Neighbour(7, "box 4 · c.png", 0.7, None, ("box", 7, 0, 4))])
    row = panel.label_row
    assert not row.tag_button.isEnabled() and not row.class_button.isEnabled()
    # Ctrl+click selects without opening; a plain click opens (and selects that one)
    with qtbot.assertNotEmitted(panel.open_requested):
        click_item(qtbot, panel, 0, Qt.ControlModifier)
        click_item(qtbot, panel, 2, Qt.ControlModifier)
    assert panel.selected_items() == [("image", 5, 0, 0), ("box", 7, 0, 4)]
    assert row.selected.text() == "2 selected (1 boxes)"
    choose(qtbot, row.tags, "wasps")
    with qtbot.waitSignal(panel.tag_requested) as sig:
        qtbot.mouseClick(row.tag_button, Qt.LeftButton)
    assert sig.args == [8, [("image", 5, 0, 0), ("box", 7, 0, 4)]]
    choose(qtbot, row.classes, "dog")
    with qtbot.waitSignal(panel.class_requested) as sig:
        qtbot.mouseClick(row.class_button, Qt.LeftButton)
    assert sig.args == [4, [("image", 5, 0, 0), ("box", 7, 0, 4)]]
    qtbot.mouseClick(row.all_button, Qt.LeftButton)
    assert len(panel.selected_items()) == 3
    with qtbot.waitSignal(panel.open_requested) as sig:
        click_item(qtbot, panel, 1)
    assert sig.args == [6] and panel.selected_items() == [("box", 6, 0, 3)]
    click_item(qtbot, panel, 0)
    assert not row.class_button.isEnabled()          # no box selected: no class to give


@pytest.fixture
def window(qtbot, tmp_path):
    from app.shell.window import MainWindow

    project, run_id = make_search_project(tmp_path, images=16, files=True)
    w = MainWindow(project)
    qtbot.addWidget(w)
    yield w, project, run_id
    w.close()
    project.close()


def settle(qtbot, panel, old: str) -> None:
    """Wait for the search under way to answer (its status leaves ``old`` and the
    in-progress notes)."""
    qtbot.waitUntil(lambda: panel.status.text() != old and not panel.status.text().startswith(
        ("Searching", "Indexing", "Connecting")), timeout=30000)


def search_now(qtbot, panel, button) -> list[int]:
    old = panel.status.text()
    qtbot.mouseClick(button, Qt.LeftButton)
    settle(qtbot, panel, old)
    return panel.results()


def test_find_similar_unlabelled_then_tag_them_all(window, qtbot):
    w, project, run_id = window
    panel = w.search.panel
    assert panel.current_run() == run_id
    w.open_media(2)
    choose(qtbot, panel.filters.status, "Unlabelled")
    results = search_now(qtbot, panel, panel.current_button)
    unlabelled = {m for m in project.media.ids() if not project.boxes.count(m)
                  and not project.tags.of(m)}
    assert results and set(results) <= unlabelled, panel.status.text()
    assert "among: unlabelled" in panel.query_text.text()
    qtbot.mouseClick(panel.label_row.all_button, Qt.LeftButton)
    choose(qtbot, panel.label_row.tags, "wasps")
    wasps = project.tags.ensure("wasps")
    steps = w.doc.undo_stack.count()
    old = panel.status.text()
    qtbot.mouseClick(panel.label_row.tag_button, Qt.LeftButton)
    assert w.doc.undo_stack.count() == steps + 1               # one step for all of them
    assert all(wasps in project.tags.of(m) for m in results)
    # the filtered search runs again: they are labelled now, so they are gone
    settle(qtbot, panel, old)
    assert not set(panel.results()) & set(results)
    w.doc.undo_stack.undo()
    assert not any(wasps in project.tags.of(m) for m in results)
    assert set(search_now(qtbot, panel, panel.current_button)) == set(results)


def test_box_results_get_a_class_in_one_step(window, qtbot):
    w, project, run_id = window
    panel = w.search.panel
    cat, dog = project.classes.by_name("cat").id, project.classes.by_name("dog").id
    w.open_media(3)
    w.canvas.select([project.boxes.of(3)[0].id])
    choose(qtbot, panel.filters.cls, "dog")
    results = search_now(qtbot, panel, panel.box_button)
    assert len(results) >= 3
    items = []
    for row in (0, 1, 2):
        click_item(qtbot, panel, row, Qt.ControlModifier)
    items = panel.selected_items()
    assert len(items) == 3 and all(i[0] == "box" for i in items)
    assert all(project.boxes.get(i[3]).class_id == dog for i in items)
    choose(qtbot, panel.label_row.classes, "cat")
    steps = w.doc.undo_stack.count()
    qtbot.mouseClick(panel.label_row.class_button, Qt.LeftButton)
    assert w.doc.undo_stack.count() == steps + 1
    assert all(project.boxes.get(i[3]).class_id == cat for i in items)
    w.doc.undo_stack.undo()
    assert all(project.boxes.get(i[3]).class_id == dog for i in items)


def test_store_field_switches_to_qdrant_and_back(window, qtbot):
    w, project, run_id = window
    panel = w.search.panel
    w.open_media(5)
    embedded = search_now(qtbot, panel, panel.current_button)
    qtbot.keyClicks(panel.store.spec, "qdrant://local")
    with qtbot.waitSignal(w.search.message, timeout=30000) as sig:
        qtbot.mouseClick(panel.store.use_button, Qt.LeftButton)
    assert sig.args[0].startswith("Vector store: Qdrant (local folder")
    assert project.settings.get("search.store") == "qdrant://local"
    settle(qtbot, panel, "")
    assert "neighbours" in panel.status.text()
    assert panel.results() == embedded
    # a store that cannot be understood is refused with a warning; the choice stays
    panel.store.spec.clear()
    qtbot.keyClicks(panel.store.spec, "ftp://nowhere")
    with qtbot.waitSignal(w.search.problem) as sig:
        qtbot.mouseClick(panel.store.use_button, Qt.LeftButton)
    assert "unknown vector store 'ftp://nowhere'" in sig.args[1]
    assert project.settings.get("search.store") == "qdrant://local"


def test_window_stays_live_while_a_search_runs(window, qtbot, monkeypatch):
    """The search runs on the worker: a slow store never blocks the event loop."""
    w, project, run_id = window
    panel = w.search.panel
    release, started = threading.Event(), threading.Event()
    worker = w.search._worker
    real = worker.store

    class Slow:
        def __init__(self, store):
            self.store = store

        def search(self, *args):
            started.set()
            assert release.wait(30)
            return self.store.search(*args)

        def count(self, *args):
            return self.store.count(*args)

    monkeypatch.setattr(worker, "store", lambda run_id, progress=None: Slow(real(run_id, progress)))
    w.open_media(2)
    qtbot.mouseClick(panel.current_button, Qt.LeftButton)
    qtbot.waitUntil(started.is_set, timeout=30000)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    qtbot.waitUntil(lambda: len(ticks) >= 10, timeout=5000)    # the GUI thread is free
    w.open_media(3)                                              # and the window answers
    assert w.annotator.media_id == 3
    assert panel.status.text().startswith(("Searching", "Indexing"))
    timer.stop()
    release.set()
    qtbot.waitUntil(lambda: panel.results() != [], timeout=30000)
