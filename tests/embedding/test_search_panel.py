"""The search panel's signals (pytest-qt), and the SearchController in the real
main window: embed, search, open a neighbour, tag suggestions and accepting one."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from widgets.search_panel import Neighbour, SearchPanel


@pytest.fixture
def panel(qtbot):
    p = SearchPanel()
    qtbot.addWidget(p)
    p.resize(420, 500)
    p.show()
    return p


def test_panel_intents(panel, qtbot):
    assert not panel.current_button.isEnabled()          # no runs yet
    panel.set_runs([(3, "#3 embed_resnet18"), (5, "#5 embed_mobilenet_v2")], current=5)
    assert panel.current_run() == 5 and panel.current_button.isEnabled()
    with qtbot.waitSignal(panel.run_changed) as sig:
        panel.runs.setCurrentIndex(0)
    assert sig.args == [3]
    for button, signal in [(panel.current_button, panel.search_current_requested),
                           (panel.box_button, panel.search_box_requested),
                           (panel.embed_button, panel.embed_requested)]:
        with qtbot.waitSignal(signal):
            qtbot.mouseClick(button, Qt.LeftButton)
    thumb = QImage(40, 30, QImage.Format_RGB32)
    thumb.fill(Qt.red)
    panel.set_query(thumb, "This picture")
    panel.set_results([Neighbour(7, "a.png", 0.99, thumb), Neighbour(9, "b.png", 0.5, None)])
    assert panel.results() == [7, 9]
    assert panel.grid.item(0).text().startswith("0.990")
    with qtbot.waitSignal(panel.open_requested) as sig:
        rect = panel.grid.visualItemRect(panel.grid.item(1))
        qtbot.mouseClick(panel.grid.viewport(), Qt.LeftButton, pos=rect.center())
    assert sig.args == [9]
    panel.set_busy("Embedding", 3, 10)
    assert panel.progress.isVisible() and not panel.embed_button.isEnabled()
    with qtbot.waitSignal(panel.cancel_requested):
        qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)
    panel.set_busy(None)
    assert not panel.progress.isVisible() and panel.embed_button.isEnabled()


def test_panel_file_drop_is_a_query(panel, qtbot, tmp_path):
    path = tmp_path / "q.png"
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, data, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(panel, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(10, 10), Qt.CopyAction, data, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(panel.file_query) as sig:
        QApplication.sendEvent(panel, drop)
    assert sig.args == [str(path)]


@pytest.mark.slow
def test_controller_in_the_main_window(qtbot, tmp_path, trained_embedder):
    from app.shell.window import MainWindow
    from tests.embedding.conftest import make_project

    project, run_id, truth = make_project(tmp_path, trained_embedder, untagged=2)
    project.runs.update(run_id, status="finished")
    w = MainWindow(project)
    qtbot.addWidget(w)
    search = w.search                                   # the window's own controller
    try:
        panel = search.panel
        assert panel.current_run() == run_id
        qtbot.mouseClick(panel.embed_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: not search.embedding, timeout=60000)
        assert "embedded 28" in panel.status.text()
        first = min(truth)
        w.open_media(first)
        qtbot.mouseClick(panel.current_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: panel.results() != [] or "Error" in panel.status.text(), timeout=30000)
        assert panel.results(), panel.status.text()
        assert panel.results()[0] == first
        # a click on a neighbour opens it
        other = panel.results()[1]
        rect = panel.grid.visualItemRect(panel.grid.item(1))
        qtbot.mouseClick(panel.grid.viewport(), Qt.LeftButton, pos=rect.center())
        assert w.annotator.media_id == other
        # an untagged image gets suggestions; accepting one tags it (undoable)
        untagged = [m for m in truth if not project.tags.of(m)][0]
        tags = w.panels.tags_panel
        w.open_media(untagged)
        qtbot.waitUntil(lambda: tags.suggestion_buttons() != [], timeout=30000)
        suggested = tags._suggestions[0][0]
        with qtbot.waitSignal(w.doc.tags_changed):
            tags.suggestion_buttons()[0].click()
        assert suggested in project.tags.of(untagged)
    finally:
        w.close()                                       # its close hook stops the worker
        project.close()
