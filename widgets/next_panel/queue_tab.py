"""The Label next queue tab: what the model would learn most from, scoring progress,
pre-labels and keep training. Plain data in, intents out."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget)


class QueueTab(QWidget):
    next_requested = Signal()
    item_activated = Signal(int, int)           # media id, frame
    score_requested = Signal()
    cancel_requested = Signal()
    prelabels_toggled = Signal(bool)
    keep_training_changed = Signal(bool, int, int)   # on, every K labelled pictures, epochs

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.status = QLabel("Press N for the picture that would teach the model most.")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(14)
        self.progress.hide()
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancel_requested)
        self.cancel.hide()
        self.next_button = QPushButton("Label next (N)")
        self.next_button.clicked.connect(self.next_requested)
        self.score_button = QPushButton("Score the project")
        self.score_button.setToolTip("Score every picture not labelled yet with the active "
                                     "model (in the background; cached per model)")
        self.score_button.clicked.connect(self.score_requested)
        buttons = QHBoxLayout()
        for w in (self.next_button, self.score_button, self.cancel):
            buttons.addWidget(w)
        buttons.addStretch(1)
        self.list = QListWidget()
        self.list.setToolTip("The queue, most useful first: click one to open it")
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)
        self.prelabels = QCheckBox("Pre-labels: show the model's boxes as proposals on pictures "
                                   "not labelled (click or Enter accepts)")
        self.prelabels.setChecked(True)
        self.prelabels.toggled.connect(self.prelabels_toggled)
        self.keep = QCheckBox("Keep training: retrain after every")
        self.every = QSpinBox()
        self.every.setRange(1, 100000)
        self.every.setValue(50)
        self.every.setSuffix(" new labelled pictures")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.epochs.setValue(4)
        self.epochs.setPrefix("fine-tune ")
        self.epochs.setSuffix(" epochs")
        for w in (self.keep,):
            w.toggled.connect(lambda _on: self._keep_changed())
        for w in (self.every, self.epochs):
            w.valueChanged.connect(lambda _v: self._keep_changed())
        keep_row = QHBoxLayout()
        keep_row.addWidget(self.keep)
        keep_row.addWidget(self.every, 1)
        self.chain = QLabel("")
        self.chain.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.status)
        lay.addWidget(self.progress)
        lay.addLayout(buttons)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.prelabels)
        lay.addLayout(keep_row)
        lay.addWidget(self.epochs)
        lay.addWidget(self.chain)

    # -- data in ---------------------------------------------------------------------------
    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def set_busy(self, done: int, total: int, text: str = "") -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{text} %v / %m" if text else "%v / %m")
        self.progress.show()
        self.cancel.show()
        self.score_button.setEnabled(False)

    def set_idle(self) -> None:
        self.progress.hide()
        self.cancel.hide()
        self.score_button.setEnabled(True)

    def set_items(self, items: list[tuple[int, int, str]]) -> None:
        """(media id, frame, text) per queue item, most useful first."""
        self.list.clear()
        for media_id, frame, text in items:
            item = QListWidgetItem(text)
            item.setData(Qt.UserRole, (media_id, frame))
            self.list.addItem(item)

    def set_keep_training(self, on: bool, every: int, epochs: int) -> None:
        for w in (self.keep, self.every, self.epochs):
            w.blockSignals(True)
        self.keep.setChecked(on)
        self.every.setValue(every)
        self.epochs.setValue(epochs)
        for w in (self.keep, self.every, self.epochs):
            w.blockSignals(False)

    def set_chain(self, text: str) -> None:
        self.chain.setText(text)

    # -- intents ---------------------------------------------------------------------------
    def _activated(self, item: QListWidgetItem) -> None:
        media_id, frame = item.data(Qt.UserRole)
        self.item_activated.emit(media_id, frame)

    def _keep_changed(self) -> None:
        self.keep_training_changed.emit(self.keep.isChecked(), self.every.value(),
                                        self.epochs.value())
