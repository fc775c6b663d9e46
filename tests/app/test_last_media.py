"""The picture on screen is remembered for the next start without a page ever waiting
for another writer of the project (a Label next scoring job, a trainer)."""
import sqlite3

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.shell import window as window_module
from app.shell.demo import make_demo
from app.shell.window import LAST_MEDIA, MainWindow
from app.store.project import Project


def saved(folder) -> str | None:
    conn = sqlite3.connect(folder / "kestrel.db")
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (LAST_MEDIA,)).fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def shown_window(qtbot, folder, n_images):
    make_demo(folder, n_images=n_images, video=False).close()
    w = MainWindow(Project.open(folder))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_paging_writes_last_media_at_most_every_interval_and_at_close(tmp_path, qtbot,
                                                                      monkeypatch):
    monkeypatch.setattr(window_module, "LAST_MEDIA_EVERY_MS", 1500)   # longer than 3 keys
    folder = tmp_path / "demo"
    w = shown_window(qtbot, folder, 6)
    w.restore_last_media()
    first = w.media_id
    assert saved(folder) == str(first)                 # the first page is written at once
    for _ in range(3):                                 # PageDown as a person pages
        w.canvas.setFocus()
        QTest.keyClick(w.windowHandle(), Qt.Key_D)
    assert w.media_id != first
    assert saved(folder) == str(first)                 # not on every page…
    qtbot.waitUntil(lambda: saved(folder) == str(w.media_id), timeout=6000)   # …but soon
    w.canvas.setFocus()
    QTest.keyClick(w.windowHandle(), Qt.Key_D)
    last = w.media_id
    w.close()                                          # …and whatever is pending at close
    assert saved(folder) == str(last)
    w.project.close()


def test_a_busy_project_does_not_make_a_page_wait(tmp_path, qtbot, monkeypatch):
    monkeypatch.setattr(window_module, "LAST_MEDIA_EVERY_MS", 200)
    folder = tmp_path / "demo"
    w = shown_window(qtbot, folder, 4)
    other = sqlite3.connect(folder / "kestrel.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")                   # another writer holds the lock
    waits = []
    real = w.project.db.waiting_at_most
    monkeypatch.setattr(w.project.db, "waiting_at_most", lambda ms: waits.append(ms) or real(ms))
    w.restore_last_media()                             # busy: not written, not waited for
    assert waits == [0] and saved(folder) is None
    qtbot.wait(1000)                                   # tried again, still busy
    assert saved(folder) is None and len(waits) >= 2
    other.execute("COMMIT")
    other.close()
    qtbot.waitUntil(lambda: saved(folder) == str(w.media_id), timeout=6000)
    w.close()
    w.project.close()
