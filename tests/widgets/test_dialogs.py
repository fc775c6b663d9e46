"""Shortcut sheet, error dialog, start page, status widget, theme."""
import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from widgets.error_dialog import ErrorDialog
from widgets.shortcut_sheet import ShortcutSheet
from widgets.start_page import StartPage
from widgets.status import CanvasStatus
from widgets.theme import apply_theme, dark_palette


def test_shortcut_sheet_table_and_filter(qtbot):
    s = ShortcutSheet([("W", "Draw a box"), ("Del", "Delete boxes"), ("Ctrl+Z", "Undo")])
    qtbot.addWidget(s)
    assert s.shortcuts() == [("W", "Draw a box"), ("Del", "Delete boxes"), ("Ctrl+Z", "Undo")]
    qtbot.keyClicks(s.search, "box")
    assert s.visible_rows() == [0, 1]
    s.search.clear()
    assert s.visible_rows() == [0, 1, 2]
    s.set_shortcuts([("F1", "Help")])
    assert s.table.rowCount() == 1


def _raise():
    try:
        raise ValueError("bad <thing>")
    except ValueError:
        return sys.exc_info()


def test_error_dialog_is_non_modal_and_collects_errors(qtbot):
    dlg = ErrorDialog.report(*_raise())
    qtbot.addWidget(dlg)
    assert dlg.isVisible() and not dlg.isModal()
    assert dlg.message.text() == "bad <thing>"
    assert dlg.details.isHidden() and "Traceback" in dlg.details.toPlainText()
    qtbot.mouseClick(dlg.toggle_button, Qt.LeftButton)
    assert not dlg.details.isHidden() and dlg.toggle_button.text() == "Hide details"
    again = ErrorDialog.report(*_raise())
    assert again is dlg and dlg.count == 2 and not dlg.more.isHidden()
    dlg.copy()
    assert "ValueError: bad <thing>" in QApplication.clipboard().text()
    dlg.close()
    qtbot.waitUntil(lambda: ErrorDialog._open is None)
    fresh = ErrorDialog.report(*_raise())
    qtbot.addWidget(fresh)
    assert fresh is not dlg and fresh.count == 1
    fresh.close()


def test_start_page_intents(qtbot):
    p = StartPage()
    qtbot.addWidget(p)
    assert p.recent.isHidden() and not p.empty_label.isHidden()
    p.set_recent(["/projects/roos", "/data/bottles/"])
    assert p.recent_paths() == ["/projects/roos", "/data/bottles/"]
    assert p.recent.item(1).text().startswith("bottles")
    with qtbot.waitSignal(p.new_requested):
        qtbot.mouseClick(p.new_button, Qt.LeftButton)
    with qtbot.waitSignal(p.demo_requested):
        qtbot.mouseClick(p.demo_button, Qt.LeftButton)
    p.choose_path = lambda: "/picked/project"
    with qtbot.waitSignal(p.open_requested) as sig:
        qtbot.mouseClick(p.open_button, Qt.LeftButton)
    assert sig.args == ["/picked/project"]
    p.choose_path = lambda: None
    with qtbot.assertNotEmitted(p.open_requested):
        qtbot.mouseClick(p.open_button, Qt.LeftButton)
    with qtbot.waitSignal(p.open_requested) as sig:
        p.recent.itemActivated.emit(p.recent.item(0))
    assert sig.args == ["/projects/roos"]


def test_status_follows_canvas(qtbot, solid_image):
    from widgets.canvas import BoxCanvas
    c = BoxCanvas()
    c.resize(400, 300)
    s = CanvasStatus()
    qtbot.addWidget(c)
    qtbot.addWidget(s)
    s.connect_canvas(c)
    c.show()
    c.set_image(solid_image(200, 150))
    assert s.zoom_label.text() == "200%"
    c.cursor_moved.emit(12.7, 3.2)
    assert s.cursor_label.text() == "x 12  y 3"
    s.set_image_size((200, 150))
    s.set_box_count(1)
    assert (s.size_label.text(), s.boxes_label.text()) == ("200×150", "1 box")


def test_theme_applies_dark_palette(qapp):
    old_palette, old_sheet = qapp.palette(), qapp.styleSheet()
    try:
        apply_theme(qapp)
        assert qapp.palette().color(qapp.palette().ColorRole.Window).lightness() < 60
        assert "QToolTip" in qapp.styleSheet()
    finally:
        qapp.setStyleSheet(old_sheet)
        qapp.setPalette(old_palette)
    assert dark_palette().color(dark_palette().ColorRole.Text).lightness() > 200


def test_error_report_from_worker_thread_is_queued_to_gui(qtbot):
    import threading
    results = []
    t = threading.Thread(target=lambda: results.append(ErrorDialog.report(*_raise())))
    t.start()
    t.join()
    assert results == [None]
    qtbot.waitUntil(lambda: ErrorDialog._open is not None and ErrorDialog._open.isVisible())
    dlg = ErrorDialog._open
    qtbot.addWidget(dlg)
    assert dlg.message.text() == "bad <thing>"
    dlg.close()
