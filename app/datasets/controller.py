"""Import and export from the window: drops and the File menu. Every step that reads or
writes more than a few files runs on a worker (app/datasets/jobs.py) with progress and
Cancel; a dataset is shown in a preview (widgets/import_preview.py) before it is
imported. An import writes in one transaction, so Cancel keeps nothing of it.

The controller knows the project and a parent widget for its dialogs, nothing of the
window: the window connects ``imported`` (refresh its lists) and ``message`` (its
status bar), and puts ``actions()`` in its File menu.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from app.datasets.jobs import Job
from app.store.probe import MEDIA_EXTS

EXPORT_FORMATS = ["coco", "voc", "yolo"]


class DatasetsController(QObject):
    imported = Signal()        # media, classes or tags changed: the window refreshes its lists
    message = Signal(str)      # one line for the status bar

    def __init__(self, project, parent_widget):
        super().__init__(parent_widget)
        self.project = project
        self.parent_widget = parent_widget
        self.job: Job | None = None
        self.preview = None
        self.progress: QProgressDialog | None = None
        self.last_summary: list[str] = []
        self._paths: list[str] = []
        self._chosen: list[str] = []
        self._plans: list = []
        self._actions = self._make_actions()

    # -- the File menu ---------------------------------------------------------------
    def actions(self) -> dict[str, QAction]:
        return dict(self._actions)

    def _make_actions(self) -> dict[str, QAction]:
        out = {}
        for key, text, keys, slot in (
                ("import_media", "Import &media…", "Ctrl+I", self.choose_media),
                ("import_labels", "Import &labels (COCO, VOC, YOLO)…", "Ctrl+Shift+I", self.choose_labels),
                ("export", "&Export dataset…", "Ctrl+E", self.choose_export)):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(lambda _=False, slot=slot: slot())
            out[key] = action
        return out

    def choose_media(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self.parent_widget, "Import images and videos", "",
            "Media (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp *.mp4 *.avi *.mkv *.mov);;All files (*)")
        if files:
            self.import_paths(files)

    def choose_labels(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.parent_widget, "Import labels: a COCO .json, a YOLO data.yaml, a VOC .xml or "
            "YOLO .txt of the dataset", "", "Labels (*.json *.yaml *.yml *.xml *.txt);;All files (*)")
        if path:
            self.import_paths([path])

    # -- import ------------------------------------------------------------------------
    def import_paths(self, paths: list[str]) -> None:
        """Drops and menus: media files go straight in; a folder or label file is looked
        at first and shown in the preview."""
        if self.busy():
            return
        self._paths, self._chosen = [str(p) for p in paths], []
        if all(Path(p).is_file() and Path(p).suffix.lower() in MEDIA_EXTS for p in self._paths):
            from app.datasets.plan import plan_import

            self._import([plan_import(p) for p in self._paths])   # cheap: no folder to scan
            return
        self._plan(first=True)

    def busy(self) -> bool:
        if self.job is not None:
            self.message.emit("an import or export is still running")
            return True
        return False

    def _plan(self, first: bool) -> None:
        from app.datasets.plan import plan_import

        paths, chosen = list(self._paths), list(self._chosen)
        def work(project, job):
            return [plan_import(p, annotations=chosen) for p in paths]

        self._start(work, "Looking at " + ", ".join(Path(p).name for p in paths) + "…",
                    self._planned, show=first)
        if self.preview is not None:
            self.preview.set_busy(True)

    @Slot(object)
    def _planned(self, plans: list) -> None:
        from app.datasets.preview import preview_data
        from widgets.import_preview import ImportPreviewDialog

        self._plans = plans
        if self.preview is None:
            self.preview = ImportPreviewDialog(self.parent_widget)
            self.preview.setAttribute(Qt.WA_DeleteOnClose, True)
            self.preview.import_requested.connect(lambda: self._import(self._plans))
            self.preview.choice_made.connect(self._choose)
            self.preview.destroyed.connect(self._preview_gone)
        self.preview.set_preview(preview_data(plans))
        self.preview.set_busy(False)
        self.preview.show()
        self.preview.raise_()

    def _preview_gone(self, *_):
        self.preview = None

    @Slot(str)
    def _choose(self, label_file: str) -> None:
        if label_file not in self._chosen:
            self._chosen.append(label_file)
        if self.job is None:
            self._plan(first=False)

    def _import(self, plans: list) -> None:
        from app.datasets.importer import run_import

        def work(project, job):
            with project.transaction():   # all of it or, on Cancel or error, nothing
                return [run_import(project, plan, job.report, job.check) for plan in plans]

        self._start(work, "Importing…", self._imported)

    @Slot(object)
    def _imported(self, summaries: list) -> None:
        lines = [ln for s in summaries for ln in s.warnings + s.lines()]
        self.last_summary = lines
        images = sum(s.images for s in summaries)
        boxes = sum(s.boxes for s in summaries)
        media = sum(s.media_added for s in summaries)
        self.imported.emit()
        text = (f"imported {images} images, {boxes} boxes" if images or boxes or not media
                else f"imported {media} media files")
        self.message.emit(text)
        if any(s.skipped or s.warnings for s in summaries) or not any(s.imported for s in summaries):
            self._inform("Import", "\n".join(lines), warning=True)

    # -- export ------------------------------------------------------------------------
    def choose_export(self) -> None:
        from widgets.export_dialog import ExportDialog

        if self.busy():
            return
        counts = self.project.status.image_counts()
        labelled = counts["labelled"] + counts["empty"] + counts["review"]
        dialog = ExportDialog(EXPORT_FORMATS, labelled, counts["unlabelled"], self.parent_widget)
        if dialog.exec() != ExportDialog.Accepted:
            return
        fmt, include = dialog.choice()
        folder = QFileDialog.getExistingDirectory(self.parent_widget, "Export into (a new or empty folder)")
        if folder:
            self.export(folder, fmt, include_unlabelled=include)

    def export(self, folder: str, fmt: str, overwrite: bool | None = None,
               include_unlabelled: bool = False) -> None:
        """Export labelled pictures (and, with ``include_unlabelled``, the rest)."""
        from app.store.exporter import EXPORT_MARKER, export_project

        out = Path(folder)
        if overwrite is None:
            overwrite = False
            if out.is_dir() and next(out.iterdir(), None) is not None:
                if not (out / EXPORT_MARKER).is_file():
                    self._inform("Export", f"{out} is not empty and not a Kestrel export: "
                                 "choose a new or empty folder.", warning=True)
                    return
                answer = QMessageBox.question(self.parent_widget, "Export",
                                              f"Replace the previous export in {out}?")
                if answer != QMessageBox.Yes:
                    return
                overwrite = True

        def work(project, job):
            job.report("exporting", 0, 0)
            return export_project(project, out, fmt, overwrite=overwrite, per_split=True,
                                  include_unlabelled=include_unlabelled, check=job.check)

        self._start(work, f"Exporting as {fmt}…", self._exported)

    @Slot(object)
    def _exported(self, c: dict) -> None:
        from app.datasets.cli import export_note

        self.message.emit(f"exported {c['images']} images, {c['boxes']} boxes to {c['path']}"
                          + export_note(c))

    # -- jobs ----------------------------------------------------------------------------
    def _start(self, work, text: str, on_done, show: bool = True) -> Job:
        """Run ``work(project, job)`` on a worker. Every signal goes to a slot of this
        object, so it is delivered queued, on the GUI thread."""
        job = self.job = Job(self.project.root, work)
        dialog = self.progress = QProgressDialog(text, "Cancel", 0, 0, self.parent_widget)
        dialog.setWindowTitle("Kestrel")
        dialog.setWindowModality(Qt.NonModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0 if show else 400)
        dialog.canceled.connect(self._cancel)
        job.progress.connect(self._progress)
        for signal in (job.done, job.failed, job.cancelled):
            signal.connect(self._finished)
        job.done.connect(on_done)
        job.failed.connect(self._failed)
        job.cancelled.connect(self._cancelled)
        job.start()
        return job

    @Slot()
    def _cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    @Slot(str)
    def _failed(self, text: str) -> None:
        self._inform("Import or export failed", text, warning=True)

    @Slot()
    def _cancelled(self) -> None:
        self.message.emit("cancelled: nothing was changed")

    @Slot(str, int, int)
    def _progress(self, phase: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.setLabelText(f"{phase}…" + (f" {done} of {total}" if total else ""))
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total) if total else 0)

    @Slot()
    @Slot(object)
    @Slot(str)
    def _finished(self, *_) -> None:
        self.job = None
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        if self.preview is not None:
            self.preview.set_busy(False)

    def _inform(self, title: str, text: str, warning: bool = False) -> QMessageBox:
        shown = text.splitlines()
        if len(shown) > 40:
            shown = shown[:40] + [f"… and {len(shown) - 40} more lines"]
        box = QMessageBox(QMessageBox.Warning if warning else QMessageBox.Information, title,
                          "\n".join(shown), QMessageBox.Ok, self.parent_widget)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.setModal(False)
        box.show()
        self.last_message = text
        return box

    def shutdown(self) -> None:
        """Cancel a running job and wait for it at most ~2 s (an import rolls back)."""
        if self.job is not None:
            self.job.cancel()
            self.job.wait(2.0)
        if self.preview is not None:
            self.preview.close()
