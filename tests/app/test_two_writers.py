"""The window and another writer on one project: an edit never freezes the window
while another program holds the database, nobody's writes are lost, the window
sees the other program's media, a second window is read-only, backups on close."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QElapsedTimer, QTimer, Qt
from PySide6.QtTest import QTest

from app.shell.demo import make_demo
from app.shell.window import MainWindow
from app.store.backup import list_backups
from app.store.project import Project
from tests.app.test_window import at, boxes, key
from tests.widgets.conftest import drag

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_folder(tmp_path):
    make_demo(tmp_path / "demo", n_images=4, video=False).close()
    return tmp_path / "demo"


def _open(qtbot, folder) -> MainWindow:
    w = MainWindow(Project.open(folder, busy_timeout=1.0))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    w.restore_last_media()
    return w


def _close(w) -> None:
    w.close()
    w.project.close()


def _hold_lock(folder: Path, seconds: float) -> subprocess.Popen:
    """Another program takes the write lock, holds it, adds a media row, commits."""
    script = textwrap.dedent(f"""
        import sqlite3, time
        c = sqlite3.connect({str(folder / 'kestrel.db')!r}, isolation_level=None)
        c.execute("BEGIN IMMEDIATE")
        c.execute("INSERT INTO media (path, name, kind, width, height, content_hash, file_size, "
                  "added_at) VALUES ('other.jpg', 'other.jpg', 'image', 10, 10, 'h', 1, 'now')")
        print("held", flush=True)
        time.sleep({seconds})
        c.execute("COMMIT")
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


class Ticks:
    """The longest gap between timer ticks: how long the event loop stood still."""

    def __init__(self):
        self.clock = QElapsedTimer()
        self.clock.start()
        self.last, self.worst = 0, 0
        self.timer = QTimer()
        self.timer.timeout.connect(self._tick)
        self.timer.start(10)

    def _tick(self):
        now = self.clock.elapsed()
        self.worst = max(self.worst, now - self.last)
        self.last = now


def test_drawing_while_another_program_holds_the_database(demo_folder, qtbot):
    w = _open(qtbot, demo_folder)
    media, before = w.media_id, boxes(w.project, w.media_id)
    holder = _hold_lock(demo_folder, 2.0)
    try:
        ticks = Ticks()
        clock = time.perf_counter()
        key(w, Qt.Key_W)
        drag(w.canvas.viewport(), at(w, 20, 20), at(w, 120, 100))    # waits 100 ms, then queues
        key(w, Qt.Key_W)
        drag(w.canvas.viewport(), at(w, 150, 30), at(w, 200, 90))    # queued behind it
        assert time.perf_counter() - clock < 0.6                     # no freeze
        assert w.doc.pending() == 2 and not w.doc.undo_stack.canUndo()
        assert "writing to the project" in w.statusBar().currentMessage()
        QTest.qWait(500)
        assert ticks.worst < 300, ticks.worst                        # the loop kept running
        qtbot.waitUntil(lambda: w.doc.pending() == 0, timeout=10000)
    finally:
        holder.wait(10)
    added = [b for b in boxes(w.project, media) if b not in before]
    assert sorted(r for _, r in added) == [(20, 20, 120, 100), (150, 30, 200, 90)]
    assert any(m.name == "other.jpg" for m in w.project.media.list())   # theirs kept too
    stack = w.doc.undo_stack
    assert [stack.text(i) for i in range(stack.count())][-2:] == ["Add box", "Add box"]
    stack.undo()
    stack.undo()
    assert boxes(w.project, media) == before
    _close(w)


def test_the_window_shows_media_another_program_imports(demo_folder, qtbot, tmp_path):
    from PIL import Image

    w = _open(qtbot, demo_folder)
    before = len(w.source)
    photos = tmp_path / "new"
    photos.mkdir()
    for i in range(3):
        Image.new("RGB", (30, 20), (i * 60, 0, 0)).save(photos / f"n{i}.png")
    proc = subprocess.run([sys.executable, "-m", "app", "import", str(demo_folder), str(photos)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    qtbot.waitUntil(lambda: len(w.source) == before + 3, timeout=5000)
    key(w, Qt.Key_End)
    assert w.project.media.get(w.media_id).name.startswith("n")
    key(w, Qt.Key_W)                                   # and labelling goes on there
    drag(w.canvas.viewport(), at(w, 2, 2), at(w, 20, 15))
    assert len(w.project.boxes.of(w.media_id)) == 1
    _close(w)


def test_a_second_window_is_read_only_and_follows_the_first(demo_folder, qtbot):
    first = _open(qtbot, demo_folder)
    second = _open(qtbot, demo_folder)
    assert first.guard.read_only is None and second.guard.read_only
    assert second.windowTitle().endswith("(read-only)")
    assert "another Kestrel window" in second.last_message
    media = second.media_id
    before = boxes(second.project, media)
    second.canvas.set_draw_mode(True)         # (W would do; two windows share one key map here)
    drag(second.canvas.viewport(), at(second, 20, 20), at(second, 120, 100))
    assert boxes(second.project, media) == before and second.doc.undo_stack.count() == 0
    assert "read-only" in second.statusBar().currentMessage()
    first.open_media(media)
    first.canvas.set_draw_mode(True)
    drag(first.canvas.viewport(), at(first, 20, 20), at(first, 120, 100))
    assert len(boxes(first.project, media)) == len(before) + 1
    qtbot.waitUntil(lambda: len(second.canvas.boxes()) == len(before) + 1, timeout=5000)
    _close(second)
    _close(first)
    third = _open(qtbot, demo_folder)                  # the writer is gone: this one writes
    assert third.guard.read_only is None
    _close(third)


def test_closing_the_window_backs_up_its_edits(demo_folder, qtbot):
    w = _open(qtbot, demo_folder)
    qtbot.waitUntil(lambda: bool(list_backups(demo_folder)), timeout=5000)   # at open
    first = list_backups(demo_folder)
    key(w, Qt.Key_W)
    drag(w.canvas.viewport(), at(w, 20, 20), at(w, 120, 100))
    media = w.media_id
    w.close()
    w.guard.backups.wait(30)
    w.project.close()
    newest = list_backups(demo_folder)[0]
    assert newest not in first
    with Project.open(demo_folder) as p:
        expected = boxes(p, media)
    import sqlite3

    conn = sqlite3.connect(newest)
    got = sorted((r[0], (round(r[1]), round(r[2]), round(r[3]), round(r[4]))) for r in conn.execute(
        "SELECT class_id, x1, y1, x2, y2 FROM boxes WHERE media_id = ?", (media,)))
    conn.close()
    assert got == expected and any(r == (20, 20, 120, 100) for _, r in got)
