"""Import and export started from the window (menus, drag and drop)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from app.datasets import window as io
from widgets.actions import make_action

MEDIA_FILTER = ("Media (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp *.mp4 *.avi *.mkv *.mov);;"
                "All files (*)")


class DatasetsController(QObject):
    imported = Signal()       # media/classes/tags changed: the window refreshes its lists
    message = Signal(str)     # one line for the status bar

    def __init__(self, project, parent_widget: QWidget):
        super().__init__(parent_widget)
        self.project = project
        self.host = parent_widget

    def actions(self) -> dict:
        h = self.host
        return {
            "import_media": make_action(h, "Import &media…", self._import_media, "Ctrl+I"),
            "import_labels": make_action(h, "Import &labels (COCO, VOC, YOLO)…",
                                         self._import_labels, "Ctrl+Shift+I"),
            "export": make_action(h, "&Export dataset…", self._export, "Ctrl+E"),
        }

    def import_paths(self, paths: list[str]) -> None:
        done, problems = io.import_paths(self.project, paths)
        self.imported.emit()
        text = "\n".join(done) or "Nothing was imported."
        if problems:
            shown = problems[:20] + ([f"… and {len(problems) - 20} more"] if len(problems) > 20 else [])
            box = QMessageBox(QMessageBox.Warning, "Import", text + "\n\nSkipped:\n" + "\n".join(shown),
                              QMessageBox.Ok, self.host)
            box.setModal(False)
            box.show()
        else:
            self.message.emit(text)

    def shutdown(self) -> None:
        pass

    def _import_media(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self.host, "Import images and videos", "", MEDIA_FILTER)
        if files:
            self.import_paths(files)

    def _import_labels(self) -> None:
        from pathlib import Path

        path, _ = QFileDialog.getOpenFileName(
            self.host, "Import labels: a COCO .json, a YOLO data.yaml, or any file in a VOC/YOLO folder",
            "", "Labels (*.json *.yaml *.yml *.xml *.txt);;All files (*)")
        if path:
            p = Path(path)
            self.import_paths([str(p if p.suffix.lower() in (".json", ".yaml", ".yml") else p.parent)])

    def _export(self) -> None:
        fmt, ok = QInputDialog.getItem(self.host, "Export dataset", "Format:", ["coco", "voc", "yolo"],
                                       0, False)
        if not ok:
            return
        folder = QFileDialog.getExistingDirectory(self.host, "Export into (a new or empty folder)")
        if folder:
            try:
                counts = io.export_project(self.project, folder, fmt)
            except (io.ExportError, io.FormatError, OSError) as exc:
                self.message.emit(f"export failed: {exc}")
                return
            self.message.emit(f"exported {counts['images']} images, {counts['boxes']} boxes as "
                              f"{fmt} to {counts['path']}")
