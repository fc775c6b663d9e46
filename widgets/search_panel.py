"""Visual search panel: pick an embedder run, embed the project, query by the
current image, the selected box or a dropped file, and browse the nearest
neighbours as a grid of thumbnails with their similarity.

Pure view: it shows plain data (``Neighbour`` rows, QImages) and emits intents; the
app's SearchController does the work off the GUI thread.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QProgressBar, QPushButton, QVBoxLayout, QWidget)

from widgets.media_browser import install_file_drop

IdRole = Qt.UserRole + 1
THUMB = 96


@dataclass(frozen=True)
class Neighbour:
    media_id: int
    label: str             # e.g. "cat_012.jpg" or "box 7 · frame 30"
    similarity: float
    thumbnail: QImage | None = None


class SearchPanel(QWidget):
    open_requested = Signal(int)        # media id of a clicked neighbour
    file_query = Signal(str)            # an image file dropped on the panel
    search_current_requested = Signal()
    search_box_requested = Signal()
    embed_requested = Signal()
    cancel_requested = Signal()
    run_changed = Signal(int)           # embedder run id (-1: none)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.runs = QComboBox()
        self.runs.currentIndexChanged.connect(
            lambda _i: self.run_changed.emit(self.current_run() or -1))
        self.embed_button = QPushButton("Embed project")
        self.embed_button.setToolTip("Embed new images, sampled frames and boxes with this run")
        self.embed_button.clicked.connect(self.embed_requested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.cancel_button.hide()
        self.progress = QProgressBar()
        self.progress.hide()
        self.current_button = QPushButton("Search current image")
        self.current_button.clicked.connect(self.search_current_requested)
        self.box_button = QPushButton("Search selected box")
        self.box_button.clicked.connect(self.search_box_requested)
        self.query_preview = QLabel()
        self.query_preview.setFixedSize(THUMB, THUMB)
        self.query_preview.setAlignment(Qt.AlignCenter)
        self.query_preview.setStyleSheet("border: 1px solid palette(mid);")
        self.query_text = QLabel("Drop an image here, or search the current image or box.")
        self.query_text.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.grid = QListWidget()
        self.grid.setViewMode(QListWidget.IconMode)
        self.grid.setIconSize(QSize(THUMB, THUMB))
        self.grid.setGridSize(QSize(THUMB + 16, THUMB + 36))
        self.grid.setResizeMode(QListWidget.Adjust)
        self.grid.setMovement(QListWidget.Static)
        self.grid.setWordWrap(True)
        self.grid.itemClicked.connect(self._clicked)
        self.grid.itemActivated.connect(self._clicked)

        top = QHBoxLayout()
        top.addWidget(QLabel("Run"))
        top.addWidget(self.runs, 1)
        top.addWidget(self.embed_button)
        top.addWidget(self.cancel_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.current_button)
        buttons.addWidget(self.box_button)
        query = QHBoxLayout()
        query.addWidget(self.query_preview)
        query.addWidget(self.query_text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        layout.addLayout(query)
        layout.addWidget(self.status)
        layout.addWidget(self.grid, 1)
        self.drop = install_file_drop(self)
        self.drop.files_dropped.connect(lambda paths: self.file_query.emit(paths[0]))
        self.set_runs([])

    # -- what the app shows -------------------------------------------------------------
    def set_runs(self, runs: list[tuple[int, str]], current: int | None = None) -> None:
        """Embedder runs as (id, label); keeps ``current`` selected when given."""
        self.runs.blockSignals(True)
        self.runs.clear()
        for run_id, label in runs:
            self.runs.addItem(label, run_id)
        if current is not None and self.runs.findData(current) >= 0:
            self.runs.setCurrentIndex(self.runs.findData(current))
        self.runs.blockSignals(False)
        enabled = bool(runs)
        for w in (self.embed_button, self.current_button, self.box_button):
            w.setEnabled(enabled)
        if not runs:
            self.status.setText("Train an embedder template to search by similarity.")

    def current_run(self) -> int | None:
        data = self.runs.currentData()
        return int(data) if data is not None else None

    def set_query(self, image: QImage | None, text: str) -> None:
        self.query_text.setText(text)
        if image is None or image.isNull():
            self.query_preview.clear()
        else:
            self.query_preview.setPixmap(QPixmap.fromImage(image).scaled(
                THUMB, THUMB, Qt.KeepAspectRatio, Qt.SmoothTransformation))

    def set_results(self, neighbours: list[Neighbour]) -> None:
        self.grid.clear()
        for n in neighbours:
            item = QListWidgetItem(f"{n.similarity:.3f}\n{n.label}")
            item.setData(IdRole, n.media_id)
            item.setToolTip(f"{n.label}\nsimilarity {n.similarity:.4f}")
            if n.thumbnail is not None and not n.thumbnail.isNull():
                item.setIcon(QIcon(QPixmap.fromImage(n.thumbnail)))
            self.grid.addItem(item)

    def results(self) -> list[int]:
        return [self.grid.item(i).data(IdRole) for i in range(self.grid.count())]

    def set_busy(self, text: str | None, done: int = 0, total: int = 0) -> None:
        """A running job (``text``) with progress, or idle (None)."""
        busy = text is not None
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.embed_button.setEnabled(not busy and self.runs.count() > 0)
        if busy:
            self.progress.setRange(0, max(total, 0))
            self.progress.setValue(done)
            self.progress.setFormat(f"{text} %v/%m" if total else text)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def _clicked(self, item: QListWidgetItem) -> None:
        self.open_requested.emit(int(item.data(IdRole)))
