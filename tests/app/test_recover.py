"""Opening a damaged project in the window: a dialog says so and offers the newest
good backup; clicking Restore puts it in place and the window opens on it."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from app.shell import startup
from app.shell.demo import make_demo
from app.store.backup import make_backup
from app.store.project import Project
from tests.store.test_backup_doctor import _corrupt


def _answer(button_text: str, seen: list) -> None:
    """When the dialog shows, note its text and click ``button_text`` with the mouse."""
    def poll():
        box = next((w for w in QApplication.topLevelWidgets()
                    if isinstance(w, QMessageBox) and w.objectName() == "damaged-project"
                    and w.isVisible()), None)
        if box is None:
            QTimer.singleShot(20, poll)
            return
        seen.append(box.text() + "\n" + box.informativeText())
        button = next(b for b in box.buttons() if b.text() == button_text)
        QTest.mouseClick(button, Qt.LeftButton)
    QTimer.singleShot(20, poll)


def test_a_damaged_project_offers_the_newest_good_backup(tmp_path, qtbot, monkeypatch):
    monkeypatch.setattr(startup, "remember", lambda folder: None)   # leave real settings alone
    folder = tmp_path / "demo"
    make_demo(folder, n_images=3, video=False).close()
    make_backup(folder)
    with Project.open(folder) as p:
        expected = [(b.id, b.rect) for m in p.media.ids() for b in p.boxes.of(m)]
    _corrupt(folder / "kestrel.db")
    seen: list = []
    _answer("Restore backup", seen)
    window = startup.open_window(folder, remember_layout=False)
    assert window is not None and "is damaged" in seen[0] and "Restore the newest good backup" in seen[0]
    qtbot.addWidget(window)
    assert [(b.id, b.rect) for m in window.project.media.ids()
            for b in window.project.boxes.of(m)] == expected
    assert list((folder / "kestrel-backups").glob("damaged-*/kestrel.db"))
    window.close()
    window.project.close()


def test_without_a_backup_the_dialog_names_kestrel_doctor(tmp_path, qtbot, monkeypatch):
    monkeypatch.setattr(startup, "remember", lambda folder: None)
    folder = tmp_path / "demo"
    make_demo(folder, n_images=3, video=False).close()
    (folder / "kestrel.db").write_bytes((folder / "kestrel.db").read_bytes()[:5000])
    seen: list = []
    _answer("Close", seen)
    assert startup.open_window(folder, remember_layout=False) is None
    assert "truncated" in seen[0] and f"kestrel doctor {folder}" in seen[0]
