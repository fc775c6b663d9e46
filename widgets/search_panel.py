"""Visual search panel: pick an embedder run, embed the project, query by the
current image, the selected box or a dropped file, filter (tag, class, split,
labelled or not, media kind), and browse the nearest neighbours as a grid of
thumbnails with their similarity. Results can be selected (Ctrl/Shift+click, Select
all) and tagged, or their boxes given a class, in one step; a plain click opens one.
The vector store (embedded or Qdrant) is chosen in the store field.

Pure view: it shows plain data (``Neighbour`` rows, QImages) and emits intents; the
app's SearchController does the work off the GUI thread.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QComboBox, QHBoxLayout, QLabel,
                               QListWidget, QListWidgetItem, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)

from widgets.media_browser import install_file_drop
from widgets.search_filters import LabelRow, SearchFilters, StoreField

IdRole = Qt.UserRole + 1
ItemRole = Qt.UserRole + 2
THUMB = 96


@dataclass(frozen=True)
class Neighbour:
    media_id: int
    label: str             # e.g. "cat_012.jpg" or "box 7 · frame 30"
    similarity: float
    thumbnail: QImage | None = None
    item: tuple | None = None  # (kind, media id, frame, box id): what is labelled when selected


class SearchPanel(QWidget):
    open_requested = Signal(int)        # media id of a clicked neighbour
    file_query = Signal(str)            # an image file dropped on the panel
    search_current_requested = Signal()
    search_box_requested = Signal()
    embed_requested = Signal()
    cancel_requested = Signal()
    run_changed = Signal(int)           # embedder run id (-1: none)
    filters_changed = Signal()
    store_requested = Signal(str, str)  # store spec, API key
    tag_requested = Signal(int, list)   # tag id, selected items
    class_requested = Signal(int, list)  # class id, selected items

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
        self.grid.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.grid.itemClicked.connect(self._clicked)
        self.grid.itemActivated.connect(self._clicked)
        self.grid.itemSelectionChanged.connect(self._selection_changed)
        self.filters = SearchFilters()
        self.filters.changed.connect(self.filters_changed)
        self.store = StoreField()
        self.store.store_requested.connect(self.store_requested)
        self.label_row = LabelRow()
        self.label_row.select_all_requested.connect(self.grid.selectAll)
        self.label_row.tag_requested.connect(
            lambda tag: self.tag_requested.emit(tag, self.selected_items()))
        self.label_row.class_requested.connect(
            lambda cls: self.class_requested.emit(cls, self.selected_items()))

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
        layout.addWidget(self.store)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        layout.addWidget(self.filters)
        layout.addLayout(query)
        layout.addWidget(self.status)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.label_row)
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

    def set_choices(self, tags: list[tuple[int, str]], classes: list[tuple[int, str]]) -> None:
        """The project's tags and classes as (id, name), for filtering and labelling."""
        self.filters.set_choices([n for _, n in tags], [n for _, n in classes])
        self.label_row.set_choices(tags, classes)

    def set_results(self, neighbours: list[Neighbour]) -> None:
        self.grid.clear()
        for n in neighbours:
            item = QListWidgetItem(f"{n.similarity:.3f}\n{n.label}")
            item.setData(IdRole, n.media_id)
            item.setData(ItemRole, n.item)
            item.setToolTip(f"{n.label}\nsimilarity {n.similarity:.4f}")
            if n.thumbnail is not None and not n.thumbnail.isNull():
                item.setIcon(QIcon(QPixmap.fromImage(n.thumbnail)))
            self.grid.addItem(item)

    def results(self) -> list[int]:
        return [self.grid.item(i).data(IdRole) for i in range(self.grid.count())]

    def selected_items(self) -> list[tuple]:
        """The selected results' items, in the grid's order."""
        return [tuple(self.grid.item(i).data(ItemRole)) for i in range(self.grid.count())
                if self.grid.item(i).isSelected() and self.grid.item(i).data(ItemRole)]

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
        """A plain click opens the result; Ctrl or Shift+click only selects."""
        if not QApplication.keyboardModifiers() & (Qt.ControlModifier | Qt.ShiftModifier):
            self.open_requested.emit(int(item.data(IdRole)))

    def _selection_changed(self) -> None:
        items = self.selected_items()
        self.label_row.set_selection(len(items), sum(i[0] == "box" for i in items))
