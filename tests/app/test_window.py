"""The main window end to end: real mouse and key events on the canvas, every edit
in the store at once, undo/redo, reopen, navigation, tags, the exception hook."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtTest import QTest

from app.store.project import Project
from app.shell.window import MainWindow
from app.shell.demo import make_demo
from tests.widgets.conftest import drag, send_mouse


@pytest.fixture
def demo_folder(tmp_path):
    make_demo(tmp_path / "demo", n_images=4, video=False).close()
    return tmp_path / "demo"


@pytest.fixture
def window(qtbot, demo_folder):
    w = MainWindow(Project.open(demo_folder))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    w.restore_last_media()
    yield w
    w.close()
    w.project.close()


def at(w, x, y) -> QPointF:
    """Viewport position of image pixel (x, y)."""
    return QPointF(w.canvas.viewport_point(x, y))


def key(w, k, mods=Qt.NoModifier):
    """A key press as the window system delivers it: shortcut map first, then the focus."""
    w.canvas.setFocus()
    QTest.keyClick(w.windowHandle(), k, mods)


def boxes(project, media_id):
    return sorted((b.class_id, tuple(round(v) for v in b.rect)) for b in project.boxes.of(media_id))


def test_label_with_mouse_and_keys_then_reopen(window, demo_folder, qtbot):
    w, vpw = window, window.canvas.viewport()
    media = w.media_id
    before = boxes(w.project, media)
    classes = {c.name: c.id for c in w.project.classes.all()}

    key(w, Qt.Key_W)                                    # draw
    drag(vpw, at(w, 20, 20), at(w, 120, 100))
    after_draw = boxes(w.project, media)
    (new,) = [b for b in after_draw if b not in before]
    assert new[0] == classes["circle"] and new[1] == pytest.approx((20, 20, 120, 100), abs=1)
    new_id = next(b.id for b in w.project.boxes.of(media) if tuple(round(v) for v in b.rect) == new[1])
    w.canvas.select([new_id])

    drag(vpw, at(w, 70, 60), at(w, 90, 70))            # move by (20, 10)
    assert w.project.boxes.get(new_id).rect == pytest.approx((40, 30, 140, 110), abs=1.5)
    drag(vpw, at(w, 140, 110), at(w, 160, 130))        # resize by the bottom-right handle
    assert w.project.boxes.get(new_id).rect == pytest.approx((40, 30, 160, 130), abs=1.5)
    key(w, Qt.Key_Right, Qt.ShiftModifier)             # nudge 10 px
    assert w.project.boxes.get(new_id).x1 == pytest.approx(50, abs=1.5)
    key(w, Qt.Key_3)                                    # hot key: class "triangle"
    assert w.project.boxes.get(new_id).class_id == classes["triangle"]
    key(w, Qt.Key_Delete)
    assert boxes(w.project, media) == before

    for _ in range(5):                                   # undo delete, class, nudge, resize, move
        w.doc.undo_stack.undo()
    assert w.project.boxes.get(new_id).rect == pytest.approx((20, 20, 120, 100), abs=1)
    for _ in range(4):                                   # redo move, resize, nudge, class
        w.doc.undo_stack.redo()
    final = boxes(w.project, media)
    assert w.project.boxes.get(new_id).class_id == classes["triangle"]
    assert [b.id for b in w.canvas.boxes()].count(new_id) == 1   # the canvas shows the store

    w.close()
    w.project.close()
    again = MainWindow(Project.open(demo_folder))
    qtbot.addWidget(again)
    again.restore_last_media()
    assert again.media_id == media                       # the last image viewed
    assert boxes(again.project, media) == final
    again.close()
    again.project.close()


def test_navigation_tags_and_copy_from_previous(window):
    w = window
    ids = w.source.ids
    assert w.media_id == ids[0]
    key(w, Qt.Key_D)
    assert w.media_id == ids[1]
    key(w, Qt.Key_End)
    assert w.media_id == ids[-1]
    key(w, Qt.Key_A)
    assert w.media_id == ids[-2]
    key(w, Qt.Key_Home)
    assert w.media_id == ids[0]

    first_tags = w.project.tags.of(ids[0])
    crowded = next(t.id for t in w.project.tags.all() if t.name == "crowded")
    key(w, Qt.Key_4, Qt.AltModifier)          # toggle the 4th tag
    assert w.project.tags.of(ids[0]) == first_tags ^ {crowded}
    assert w.tags_panel_checked() == first_tags ^ {crowded}

    key(w, Qt.Key_D)
    n_prev, n_here = len(w.project.boxes.of(ids[0])), len(w.project.boxes.of(ids[1]))
    key(w, Qt.Key_V, Qt.ControlModifier | Qt.ShiftModifier)
    assert len(w.project.boxes.of(ids[1])) == n_here + n_prev
    w.doc.undo_stack.undo()
    assert len(w.project.boxes.of(ids[1])) == n_here


def test_class_panel_edits_are_undoable(window):
    w = window
    cp = w.panels.classes_panel
    cp.add_requested.emit("star")
    assert "star" in [c.name for c in w.project.classes.all()]
    square = w.project.classes.by_name("square")
    n = w.project.classes.box_counts().get(square.id, 0)
    cp.delete_requested.emit(square.id)
    assert w.project.classes.by_name("square") is None
    w.doc.undo_stack.undo()
    assert w.project.classes.box_counts().get(w.project.classes.by_name("square").id, 0) == n
    cp.add_requested.emit("star")                        # duplicate: refused with a message,
    assert [c.name for c in w.project.classes.all()].count("star") == 1   # not a crash
    assert "exists already" in w.last_message


def test_filters_list_the_right_media(window):
    w = window
    w.browser.set_filter("class", "triangle")
    expected = {m for m in w.project.media.ids()
                if any(b.class_id == w.project.classes.by_name("triangle").id
                       for b in w.project.boxes.of(m))}
    assert set(w.source.ids) == expected


def test_exception_in_a_slot_is_shown_and_the_window_goes_on(window, qtbot, monkeypatch):
    from app.shell.errors import ErrorReporter
    from widgets.error_dialog import ErrorDialog

    shown = []
    monkeypatch.setattr(ErrorDialog, "report", classmethod(lambda cls, *a, **k: shown.append(a[1])))
    reporter = ErrorReporter(window).install()
    try:
        window.annotator.media_loaded.connect(lambda _m: 1 / 0)
        key(window, Qt.Key_D)                 # the slot raises…
        qtbot.waitUntil(lambda: bool(shown), timeout=2000)
        assert isinstance(shown[0], ZeroDivisionError)
        assert window.isVisible()
        key(window, Qt.Key_W)                 # …and labelling goes on
        assert window.canvas.draw_mode()
    finally:
        reporter.uninstall()


def test_killed_process_loses_no_edit(demo_folder):
    """Edits are committed as they happen: SIGKILL right after an edit keeps it."""
    script = textwrap.dedent(f"""
        import os, signal
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from app.store.project import Project
        from app.shell.window import MainWindow
        w = MainWindow(Project.open({str(demo_folder)!r}))
        w.restore_last_media()
        w.doc.add_box(w.media_id, w.project.classes.all()[0].id, (1, 2, 30, 40))
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], env={**__import__("os").environ,
                          "QT_QPA_PLATFORM": "offscreen"}, capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    with Project.open(demo_folder) as project:
        media = int(project.settings.get("last_media"))
        assert (1, 2, 30, 40) in [b.rect for b in project.boxes.of(media)]


def test_screenshot_of_the_real_window(tmp_path, demo_folder):
    out = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, "-m", "app", "open", str(demo_folder), "--screenshot",
                           str(out), "--goto", "shapes_001.jpg"],
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert image.width() >= 800 and image.height() >= 500
    with Project.open(demo_folder) as project:
        assert project.media.get(int(project.settings.get("last_media"))).name == "shapes_001.jpg"


def test_files_dropped_on_the_canvas_are_imported(window, tmp_path, qtbot):
    from PIL import Image

    from tests.widgets.test_media_browser import _drop

    folder = tmp_path / "dropped"
    folder.mkdir()
    Image.new("RGB", (40, 30), "white").save(folder / "new one.png")
    before = len(window.source)
    assert _drop(window.canvas.viewport(), [str(folder)])
    # a folder is looked at off the GUI thread, then previewed; Import brings it in
    qtbot.waitUntil(lambda: window.datasets.preview is not None and window.datasets.job is None,
                    timeout=20000)
    qtbot.mouseClick(window.datasets.preview.import_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(window.source) == before + 1)
    assert any(m.name == "new one.png" for m in window.project.media.list())
