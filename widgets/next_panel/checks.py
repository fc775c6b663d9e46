"""Two tabs of the Label next dock: probable label errors ("check these") and
near-duplicate images. Plain data in, intents out."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QSpinBox, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)


class SuspectsTab(QWidget):
    find_requested = Signal()
    crosscheck_requested = Signal(int)     # folds
    suspect_activated = Signal(int)        # index into the list given

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.status = QLabel("Labels the active model disagrees with, on pictures it did not "
                             "train on (its validation split, or every labelled picture after "
                             "a cross-check).")
        self.status.setWordWrap(True)
        self.find_button = QPushButton("Find probable label errors")
        self.find_button.clicked.connect(self.find_requested)
        self.folds = QSpinBox()
        self.folds.setRange(2, 10)
        self.folds.setValue(4)
        self.folds.setSuffix(" folds")
        self.cross_button = QPushButton("Cross-check all labels…")
        self.cross_button.setToolTip("Train one run per fold, each with that fold held out, so "
                                     "every labelled picture is checked by a model that never "
                                     "saw it (runs one after another in the Training tab)")
        self.cross_button.clicked.connect(lambda: self.crosscheck_requested.emit(self.folds.value()))
        row = QHBoxLayout()
        row.addWidget(self.find_button)
        row.addWidget(self.cross_button)
        row.addWidget(self.folds)
        self.list = QListWidget()
        self.list.setToolTip("Most likely errors first: click one to open it, the region is "
                             "highlighted; fix it as any label (undoable)")
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)
        lay = QVBoxLayout(self)
        lay.addWidget(self.status)
        lay.addLayout(row)
        lay.addWidget(self.list, 1)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def set_busy(self, busy: bool) -> None:
        self.find_button.setEnabled(not busy)
        self.cross_button.setEnabled(not busy)

    def set_suspects(self, rows: list[str]) -> None:
        self.list.clear()
        for n, text in enumerate(rows):
            item = QListWidgetItem(text)
            item.setData(Qt.UserRole, n)
            self.list.addItem(item)

    def _activated(self, item: QListWidgetItem) -> None:
        self.suspect_activated.emit(item.data(Qt.UserRole))


class DuplicatesTab(QWidget):
    find_requested = Signal(float)          # threshold
    keep_together_toggled = Signal(bool)
    media_activated = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.status = QLabel("Images that look almost the same. Kept on one side of the "
                             "training split, a photo cannot be trained on while its twin "
                             "validates.")
        self.status.setWordWrap(True)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.5, 0.999)
        self.threshold.setDecimals(3)
        self.threshold.setSingleStep(0.005)
        self.threshold.setValue(0.95)
        self.threshold.setPrefix("similarity ≥ ")
        self.find_button = QPushButton("Find near-duplicates")
        self.find_button.clicked.connect(lambda: self.find_requested.emit(self.threshold.value()))
        row = QHBoxLayout()
        row.addWidget(self.threshold)
        row.addWidget(self.find_button)
        self.keep = QCheckBox("Keep each group on one side of training splits")
        self.keep.toggled.connect(self.keep_together_toggled)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.itemClicked.connect(self._activated)
        self.tree.itemActivated.connect(self._activated)
        lay = QVBoxLayout(self)
        lay.addWidget(self.status)
        lay.addLayout(row)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.keep)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def set_busy(self, busy: bool) -> None:
        self.find_button.setEnabled(not busy)

    def set_keep(self, on: bool) -> None:
        self.keep.blockSignals(True)
        self.keep.setChecked(on)
        self.keep.blockSignals(False)

    def set_groups(self, groups: list[list[tuple[int, str]]]) -> None:
        """Groups of (media id, name)."""
        self.tree.clear()
        for n, group in enumerate(groups, 1):
            top = QTreeWidgetItem([f"group {n}: {len(group)} images"])
            for media_id, name in group:
                child = QTreeWidgetItem([name])
                child.setData(0, Qt.UserRole, media_id)
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(n <= 20)

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        media_id = item.data(0, Qt.UserRole)
        if media_id is not None:
            self.media_activated.emit(int(media_id))
