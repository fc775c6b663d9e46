"""The main window: composition only. Each concern lives in its own controller."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from app.durability.guard import ProjectGuard
from app.labels.annotate import AnnotationController
from app.browser.source import StoreMediaSource
from app.labels.document import Document
from app.labels.imaging import ImageLoadError
from app.shell.menus import build_menus
from app.review.controller import ReviewController
from app.search.controller import SearchController
from app.labels.panels import PanelsController
from app.store import browse
from app.store.project import Project
from app.runs.controller import TrainingController
from app.video.controller import VideoController
from widgets.canvas import BoxCanvas
from widgets.media_browser import MediaBrowser, install_file_drop
from widgets.status import CanvasStatus

LAST_MEDIA = "last_media"
LAYOUT_VERSION = 2   # bump when the docks change: an older saved layout is then ignored


class MainWindow(QMainWindow):
    def __init__(self, project: Project, settings: QSettings | None = None):
        super().__init__()
        self.project = project
        self.settings = settings
        self.setWindowTitle(f"Kestrel — {project.root.name}")
        self.resize(1400, 900)
        self.doc = Document(project, self)
        # app/durability: one writing window (a second is read-only), backups, other writers.
        self.guard = ProjectGuard(project, self.doc, self)
        if self.guard.read_only:
            self.setWindowTitle(f"Kestrel — {project.root.name} (read-only)")

        self.canvas = BoxCanvas()
        self.central = QWidget()
        layout = QVBoxLayout(self.central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        self.setCentralWidget(self.central)

        self.browser = MediaBrowser()
        self.source = StoreMediaSource(project)
        self.browser.set_source(self.source)
        self._dock("Media", self.browser, Qt.LeftDockWidgetArea)

        self.annotator = AnnotationController(self.doc, self.canvas, self)
        self.video = VideoController(self)
        self.panels = PanelsController(self, self.doc, self.annotator)
        for title, widget in self.panels.docks():
            self._dock(title, widget, Qt.RightDockWidgetArea)

        self.status = CanvasStatus()
        self.statusBar().addPermanentWidget(self.status, 1)
        self.status.connect_canvas(self.canvas)
        self.annotator.boxes_shown.connect(self.status.set_box_count)
        self.annotator.message.connect(lambda text: self.statusBar().showMessage(text, 4000))

        self.browser.current_changed.connect(self.open_media)
        self.browser.filter_changed.connect(self.set_filter)
        self.browser.files_dropped.connect(self.import_paths)
        self.doc.boxes_changed.connect(self._rows_changed)
        self.doc.tags_changed.connect(self._rows_changed)
        self.doc.classes_changed.connect(self._filter_options)
        self.doc.tags_changed.connect(lambda _ids: self._filter_options())
        self._filter_options()
        self.close_hooks: list = []
        self.training = TrainingController(self, project)
        self._dock("Training", self.training.panel, Qt.RightDockWidgetArea)
        self.close_hooks.append(self.training.confirm_close)
        self.doc.boxes_changed.connect(self.training.data_changed)
        self.actions = build_menus(self)
        self.review = ReviewController(self)   # follows self.training's active run
        self.search = SearchController(self)   # visual search dock + tag suggestions
        self._arrange_docks()
        help_menu = self.help_menu.menuAction()   # menus added by controllers go before Help
        self.menuBar().removeAction(help_menu)
        self.menuBar().addAction(help_menu)
        # Files or folders dropped anywhere on the window (canvas included) are imported.
        self.drop = install_file_drop(self)
        install_file_drop(self.canvas.viewport(), self.drop)
        self.drop.files_dropped.connect(self.import_paths)
        self._wire_durability()

    def _wire_durability(self) -> None:
        bar = self.statusBar()
        self.doc.history_failed.connect(lambda text: self.inform("Undo", text, warning=True))
        self.doc.refused.connect(lambda text: bar.showMessage(text, 6000))
        self.doc.busy_changed.connect(lambda busy: bar.showMessage(
            "Another program is writing to the project: your edits are kept and saved as soon "
            "as it is done" if busy else "edits saved", 0 if busy else 3000))
        self.guard.backup_failed.connect(lambda text: bar.showMessage(f"Backup failed: {text}", 15000))
        self.guard.external_change.connect(self.refresh_all)
        if self.guard.read_only:
            self.inform("Read-only", self.guard.read_only)

    def inform(self, title: str, text: str, warning: bool = False) -> QMessageBox:
        """A non-modal message: labelling goes on while it is open."""
        box = QMessageBox(QMessageBox.Warning if warning else QMessageBox.Information, title, text,
                          QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.setModal(False)
        box.show()
        self.last_message = text
        return box

    def _dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _arrange_docks(self) -> None:
        """Classes stay in view; tags, training, predictions and search share tabs below."""
        docks = {d.windowTitle(): d for d in self.findChildren(QDockWidget)}
        group = [docks[t] for t in ("Tags", "Training", "Predictions", "Search") if t in docks]
        for dock in group[1:]:
            self.tabifyDockWidget(group[0], dock)
        group[0].raise_()
        if self.settings is not None and self.settings.value("window/state") is not None:
            self.restoreGeometry(self.settings.value("window/geometry"))
            self.restoreState(self.settings.value("window/state"), LAYOUT_VERSION)

    # -- media ---------------------------------------------------------------------------
    @property
    def media_id(self) -> int | None:
        return self.annotator.media_id

    def open_media(self, media_id: int) -> None:
        if media_id == self.media_id:
            return
        media = self.project.media.get(media_id)
        self.browser.set_current(media_id, emit=False)   # we are already opening it
        self.status.set_image_size((media.width, media.height))
        self.project.settings.set(LAST_MEDIA, str(media_id))
        if media.is_video:
            self.video.open(media)
        else:
            self.video.close_media()
            try:
                self.annotator.show_image(media_id)
            except ImageLoadError as exc:
                self.inform("Cannot show image", str(exc), warning=True)
        self.panels.media_changed(media_id)

    def restore_last_media(self) -> None:
        last = self.project.settings.get(LAST_MEDIA)
        ids = self.source.ids
        if last and last.isdigit() and int(last) in ids:
            self.open_media(int(last))
        elif ids:
            self.open_media(ids[0])

    def step_media(self, delta: int) -> None:
        ids = self.source.ids
        if not ids:
            return
        i = self.source.index_of(self.media_id) if self.media_id is not None else -1
        self.open_media(ids[max(0, min(len(ids) - 1, i + delta if i >= 0 else 0))])

    def first_media(self) -> None:
        if self.source.ids:
            self.open_media(self.source.ids[0])

    def last_media(self) -> None:
        if self.source.ids:
            self.open_media(self.source.ids[-1])

    def next_unlabelled(self) -> None:
        target = browse.next_unlabelled(self.project, self.media_id or 0)
        if target is None:
            self.statusBar().showMessage("every media item has labels", 4000)
        else:
            self.open_media(target)

    def previous_media_id(self) -> int | None:
        i = self.source.index_of(self.media_id) if self.media_id is not None else -1
        return self.source.ids[i - 1] if i > 0 else None

    def tags_panel_checked(self) -> set[int]:
        return set(self.panels.tags_panel.checked())

    # -- browser -------------------------------------------------------------------------
    def set_filter(self, kind: str, value: str = "") -> None:
        self.source = StoreMediaSource(self.project, kind, value)
        self.browser.set_source(self.source)
        if self.media_id is not None:
            self.browser.set_current(self.media_id, emit=False)

    def _rows_changed(self, media_ids) -> None:
        if media_ids:
            self.source.invalidate(media_ids)
            self.browser.refresh_rows(list(media_ids))

    def _filter_options(self) -> None:
        self.browser.set_filter_options([c.name for c in self.project.classes.all()],
                                        [t.name for t in self.project.tags.all()])

    def refresh_all(self) -> None:
        """After an import: new media, classes and tags."""
        kind, value = self.source.filter
        self.set_filter(kind, value)
        self._filter_options()
        self.panels.refresh()
        self.annotator.refresh()

    def import_paths(self, paths: list[str]) -> None:
        from app.datasets.window import import_into_window

        import_into_window(self, paths)

    # -- lifetime ------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        for hook in self.close_hooks:
            if not hook():
                event.ignore()
                return
        self.video.close_media()   # stops the decode thread
        self.guard.close()         # last backup (off this thread), window lock released
        if self.settings is not None:
            self.settings.setValue("window/geometry", self.saveGeometry())
            self.settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        super().closeEvent(event)
