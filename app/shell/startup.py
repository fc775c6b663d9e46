"""Starting the GUI: application object, theme, exception hook, qasync event loop,
recent projects, the start page, and ``--screenshot`` rendering."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

RECENT_KEY = "recent_projects"
WINDOW_BUSY_S = 1.0   # the window's writes outside the undo journal wait this long at most
_windows: list = []   # top-level windows kept alive here


def _ensure_platform(screenshot: str | None) -> None:
    """A screenshot needs no screen: render offscreen when there is none."""
    if screenshot and sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def application():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("Kestrel")
        app.setOrganizationName("Kestrel")
        from widgets.theme import apply_theme

        apply_theme(app)
    from app.shell.gc_guard import collect_on_gui_thread

    collect_on_gui_thread(app)
    return app


def settings():
    from PySide6.QtCore import QSettings

    return QSettings("Kestrel", "Kestrel")


def _stored_list(value) -> list[str]:
    """QSettings' INI backend gives back a one-item list as a plain string (and no
    list as None): a list of strings whatever was stored."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def remember(folder: Path) -> None:
    s = settings()
    recent = [p for p in _stored_list(s.value(RECENT_KEY)) if p != str(folder)]
    s.setValue(RECENT_KEY, [str(folder)] + recent[:9])
    s.sync()


def recent_projects() -> list[str]:
    return [p for p in _stored_list(settings().value(RECENT_KEY))
            if (Path(p) / "kestrel.db").is_file()]


def open_window(folder: str | os.PathLike, create: bool = False, remember_layout: bool = True):
    """Open a project in a new main window (the caller shows it).

    ``remember_layout=False`` neither restores nor saves the window layout, so
    screenshots always show the default one.
    """
    from app.durability.recover import open_or_recover
    from app.shell.window import MainWindow
    from app.store.project import Project

    if create:
        project = Project.create(folder)
    else:   # a damaged project: say so, offer the newest good backup
        project = open_or_recover(lambda: Project.open(folder, check=True, busy_timeout=WINDOW_BUSY_S))
        if project is None:
            return None
    window = MainWindow(project, settings() if remember_layout else None)
    window.project_requested.connect(lambda path, new: switch_project(window, path, create=new))
    remember(project.root)
    _windows.append(window)
    window.destroyed.connect(lambda *_: _windows.remove(window) if window in _windows else None)
    return window


def switch_project(current, folder: str, create: bool = False) -> None:
    from PySide6.QtWidgets import QMessageBox

    from app.store.project import ProjectError

    try:
        window = open_window(folder, create=create)
    except ProjectError as exc:
        QMessageBox.warning(current, "Kestrel", str(exc))
        return
    if window is None:    # damaged and not restored
        return
    window.show()
    window.restore_last_media()
    if current is not None:
        current.close()


def start_page():
    """Shown by a plain ``kestrel`` when there is no last project to reopen."""
    from PySide6.QtWidgets import QFileDialog

    from widgets.start_page import StartPage

    page = StartPage()
    page.set_recent(recent_projects())
    _windows.append(page)

    def new():
        folder = QFileDialog.getExistingDirectory(page, "Folder for the new project")
        if folder:
            switch_project(page, folder, create=True)

    def demo():
        from app.shell.demo import make_demo

        folder = Path.home() / "kestrel-demo"
        if not (folder / "kestrel.db").exists():
            make_demo(folder).close()
        switch_project(page, str(folder))

    page.new_requested.connect(new)
    page.open_requested.connect(lambda path: switch_project(page, path))
    page.demo_requested.connect(demo)
    return page


def run(project: str | None = None, *, screenshot: str | None = None, goto: str | None = None) -> int:
    """Open ``project`` (or the last one, or the start page) and run the event loop."""
    _ensure_platform(screenshot)
    app = application()
    from app.shell.errors import ErrorReporter

    if project is None:
        recent = recent_projects()
        project = recent[0] if recent else None
    if project is None:
        window = start_page()
    else:
        window = open_window(project, remember_layout=not screenshot)
        if window is None:    # damaged and not restored
            return 1
    reporter = ErrorReporter(window).install()
    window.show()
    if project is not None:
        if goto:
            window.open_media(_resolve_goto(window.project, goto))
        else:
            window.restore_last_media()
    if screenshot:
        return save_screenshot(window, screenshot)
    try:
        return _loop(app)
    finally:
        reporter.uninstall()


def _resolve_goto(project, goto: str) -> int:
    """``--goto`` takes a media id or a media name/path."""
    if goto.isdigit():
        project.media.get(int(goto))
        return int(goto)
    for m in project.media.list():
        if goto in (m.name, m.path, Path(m.path).name):
            return m.id
    raise ValueError(f"--goto {goto}: no such media in the project")


def save_screenshot(window, path: str) -> int:
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    for _ in range(3):  # layout, then thumbnails from the pool, then their repaint
        QApplication.processEvents()
        QThreadPool.globalInstance().waitForDone(3000)
    QApplication.processEvents()
    if hasattr(window, "canvas"):
        window.canvas.fit_to_window()
        QApplication.processEvents()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        raise OSError(f"cannot write screenshot {path}")
    print(f"saved screenshot {path}")
    window.close()
    return 0


def _loop(app) -> int:
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    with loop:
        loop.run_until_complete(closed.wait())
    return 0
