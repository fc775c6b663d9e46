"""The main window: composition only. Each concern lives in its own controller; the
window builds the views, hands each controller the few things it drives, wires
their signals to one another and lays their actions out into menus."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from app.browser.controller import BrowserController
from app.datasets.controller import DatasetsController
from app.durability.guard import ProjectGuard
from app.labels.annotate import AnnotationController
from app.labels.document import Document
from app.labels.panels import PanelsController
from app.next.controller import LabelNextController
from app.review.controller import ReviewController
from app.runs.controller import TrainingController
from app.runs.weights import WeightsController
from app.search.controller import SearchController
from app.shell.menus import build_menus
from app.store.project import Project
from app.store.repos.base import StoreError
from app.video.controller import VideoController
from widgets.canvas import BoxCanvas
from widgets.imaging import ImageLoadError
from widgets.media_browser import MediaBrowser, install_file_drop
from widgets.status import CanvasStatus
from widgets.timeline import Timeline

LAST_MEDIA = "last_media"
LAST_MEDIA_EVERY_MS = 2000   # "last viewed" is written at most this often while paging
LAYOUT_VERSION = 4   # bump when the docks change: an older saved layout is then ignored
DOCK_WIDTHS = (176, 440)   # media browser (a column of thumbnails), right-hand panels


class MainWindow(QMainWindow):
    project_requested = Signal(str, bool)   # folder, create: the shell opens it

    def __init__(self, project: Project, settings: QSettings | None = None):
        super().__init__()
        self.project = project
        self.settings = settings
        self.setWindowTitle(f"Kestrel — {project.root.name}")
        self.resize(1400, 900)
        self.doc = Document(project, self)
        self.last_message = ""
        self._last_media = self._last_media_saved = None
        self._last_media_timer = QTimer(self, singleShot=True, interval=LAST_MEDIA_EVERY_MS)
        self._last_media_timer.timeout.connect(lambda: self._remember_media(None))
        # app/durability: one writing window (a second is read-only), backups, other writers.
        self.guard = ProjectGuard(project, self.doc, self)
        if self.guard.read_only:
            self.setWindowTitle(f"Kestrel — {project.root.name} (read-only)")

        # -- views ------------------------------------------------------------------------
        self.canvas = BoxCanvas()
        self.timeline = Timeline()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.timeline)
        self.setCentralWidget(central)
        self.browser = MediaBrowser()
        self.status = CanvasStatus()
        self.statusBar().addPermanentWidget(self.status, 1)
        self.status.connect_canvas(self.canvas)

        # -- controllers: each gets what it drives ----------------------------------------
        self.browsing = BrowserController(project, self.browser, self)
        self.annotator = AnnotationController(self.doc, self.canvas, self)
        self.video = VideoController(project, self.doc, self.annotator, self.timeline, self)
        self.panels = PanelsController(self.doc, self.annotator, self)
        self.weights = WeightsController(self, settings)
        self.training = TrainingController(self, project, weights=self.weights)
        self.review = ReviewController(project, self.doc, self.canvas, self.annotator, self.video,
                                       self.browsing, self)
        self.search = SearchController(project, self.doc, self.annotator, self.canvas,
                                       self.panels.tags_panel, self)
        self.datasets = DatasetsController(project, self)
        self.next = LabelNextController(project, self.doc, self.annotator, self.video,
                                        self.browsing, self.review, self.training,
                                        self.search.panel.current_run, self)
        self.statusBar().addPermanentWidget(self.video.tracking.progress)

        # -- docks ------------------------------------------------------------------------
        self._dock("Media", self.browser, Qt.LeftDockWidgetArea)
        for title, widget in self.panels.docks():
            self._dock(title, widget, Qt.RightDockWidgetArea)
        self._dock("Training", self.training.panel, Qt.RightDockWidgetArea)
        self._dock("Predictions", self.review.panel, Qt.RightDockWidgetArea)
        self._dock("Search", self.search.panel, Qt.RightDockWidgetArea)
        self._dock("Label next", self.next.panel, Qt.RightDockWidgetArea)
        self._arrange_docks()

        # -- wiring -----------------------------------------------------------------------
        for c in (self.browsing, self.video, self.review, self.datasets, self.annotator,
                  self.weights, self.next, self.search):
            c.message.connect(self.show_message)
        for c in (self.video, self.panels, self.review, self.weights, self.next, self.search):
            c.problem.connect(lambda title, text: self.inform(title, text, warning=True))
        self.browsing.open_requested.connect(self.open_media)
        self.search.open_requested.connect(self.open_media)
        self.next.open_requested.connect(self.open_media)
        self.next.prelabels.counts_changed.connect(self.status.set_proposal_counts)
        self.next.prelabels.emit_counts()
        self.browsing.suggestions_wanted.connect(self.search.suggest_untagged)
        self.search.untagged_suggested.connect(self.browsing.set_suggestions)
        self.annotator.boxes_shown.connect(self.status.set_box_count)
        self.annotator.status_shown.connect(self.status.set_label_status)
        self.doc.boxes_changed.connect(self.browsing.rows_changed)
        self.doc.tags_changed.connect(self.browsing.rows_changed)
        self.doc.classes_changed.connect(self.browsing.refresh_filter_options)
        self.doc.tags_changed.connect(lambda _ids: self.browsing.refresh_filter_options())
        self.doc.boxes_changed.connect(self.training.data_changed)
        self.training.active_run_changed.connect(self.review.active_run_changed)
        self.training.run_finished.connect(self.review.refresh_runs)
        self.training.run_finished.connect(self.search.run_finished)
        self.datasets.imported.connect(self.refresh_all)
        self.datasets.imported.connect(self.next.media_added)
        self.browser.files_dropped.connect(self.datasets.import_paths)
        # Files or folders dropped anywhere on the window (canvas included) are imported.
        self.drop = install_file_drop(self)
        install_file_drop(self.canvas.viewport(), self.drop)
        self.drop.files_dropped.connect(self.datasets.import_paths)
        self._wire_durability()

        self.actions = build_menus(self, {
            **self.shell_actions(), **self.datasets.actions(),
            **self.annotator.actions(self, self.browsing.previous_id),
            **self.browsing.actions(self), **self.video.actions(self),
            **self.review.menu_actions(self), **self.weights.actions(self),
            **self.next.actions(self)})

    # -- shell -----------------------------------------------------------------------------
    def shell_actions(self) -> dict:
        from app.shell.menus import shell_actions

        return shell_actions(self)

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _wire_durability(self) -> None:
        bar = self.statusBar()
        self.doc.history_failed.connect(lambda text: self.inform("Undo", text, warning=True))
        self.doc.refused.connect(lambda text: bar.showMessage(text, 6000))
        self.doc.busy_changed.connect(lambda busy: bar.showMessage(
            "Another program is writing to the project: your edits are kept and saved as soon "
            "as it is done" if busy else "edits saved", 0 if busy else 3000))
        self.guard.backup_failed.connect(lambda text: bar.showMessage(f"Backup failed: {text}", 15000))
        self.guard.external_change.connect(self._external_change)
        self._seen = self._what_lists_show()
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
        group = [docks[t] for t in ("Tags", "Training", "Predictions", "Search", "Label next")
                 if t in docks]
        for dock in group[1:]:
            self.tabifyDockWidget(group[0], dock)
        group[0].raise_()
        # Fixed widths, so raising a tab never takes room from the canvas (each panel
        # fits these at the default 1400x900); people drag them wider as they like.
        self.resizeDocks([docks["Media"], docks["Classes"]], [DOCK_WIDTHS[0], DOCK_WIDTHS[1]],
                         Qt.Horizontal)
        if self.settings is not None and self.settings.value("window/state") is not None:
            self.restoreGeometry(self.settings.value("window/geometry"))
            self.restoreState(self.settings.value("window/state"), LAYOUT_VERSION)

    # -- media -----------------------------------------------------------------------------
    @property
    def media_id(self) -> int | None:
        return self.annotator.media_id

    @property
    def source(self):
        """What the browser lists now (filter and review marks applied)."""
        return self.browsing.source

    def open_media(self, media_id: int) -> None:
        if media_id == self.media_id:
            return
        media = self.project.media.get(media_id)
        self.browsing.set_current(media_id)
        self.status.set_image_size((media.width, media.height))
        self._remember_media(media_id)
        if media.is_video:
            self.video.open(media)
        else:
            self.video.close_media()
            try:
                self.annotator.show_image(media_id)
            except ImageLoadError as exc:
                self.inform("Cannot show image", str(exc), warning=True)
        self.panels.media_changed(media_id)

    def _remember_media(self, media_id: int | None) -> None:
        """Record the picture on screen for the next start, without making a page wait.
        A write waits for any other writer (a scoring job, a trainer's predictions): one
        per page cost paging 20-60 ms stalls while Label next scored. So the first page
        writes at once, later ones at most every LAST_MEDIA_EVERY_MS, and a busy
        database is tried again then instead of waited for."""
        if media_id is not None:
            self._last_media = media_id
        if self._last_media is None or self._last_media == self._last_media_saved:
            return
        if self._last_media_timer.isActive() and media_id is not None:
            return                                 # the timer writes the newest one
        try:
            if self.project.settings.set_if_free(LAST_MEDIA, str(self._last_media)):
                self._last_media_saved = self._last_media
        except StoreError:      # the project was closed first: "last viewed" is a courtesy
            return
        self._last_media_timer.start()             # busy: tried again then

    def _flush_last_media(self) -> None:
        if self._last_media is not None and self._last_media != self._last_media_saved:
            try:
                self.project.settings.set(LAST_MEDIA, str(self._last_media))
            except StoreError:                     # the project was closed first
                return
            self._last_media_saved = self._last_media

    def restore_last_media(self) -> None:
        last = self.project.settings.get(LAST_MEDIA)
        ids = self.browsing.ids
        if last and last.isdigit() and int(last) in set(ids):
            self.open_media(int(last))
        elif ids:
            self.open_media(ids[0])

    def tags_panel_checked(self) -> set[int]:
        return set(self.panels.tags_panel.checked())

    def refresh_all(self) -> None:
        """After an import: new media, classes and tags."""
        self.browsing.refresh()
        self.panels.refresh()
        self.annotator.refresh()

    def _what_lists_show(self) -> tuple:
        p = self.project
        return (p.media.count(), tuple(p.classes.all()), tuple(p.tags.all()),
                p.boxes.count(self.media_id) if self.media_id is not None else 0)

    def _external_change(self) -> None:
        """Another program wrote (kestrel import, Predict all's own connection…): refresh
        only when what the lists or the canvas show changed, not on every prediction."""
        seen = self._what_lists_show()
        if seen != self._seen:
            self._seen = seen
            self.refresh_all()

    def import_paths(self, paths: list[str]) -> None:
        self.datasets.import_paths(paths)

    # -- lifetime --------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if not self.training.confirm_close():
            event.ignore()
            return
        for controller in (self.video, self.review, self.search, self.datasets, self.weights,
                           self.next):
            controller.shutdown()      # none of them waits on a thread
        self._last_media_timer.stop()
        self._flush_last_media()
        self.guard.close()             # last backup (off this thread), window lock released
        if self.settings is not None:
            self.settings.setValue("window/geometry", self.saveGeometry())
            self.settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        super().closeEvent(event)
