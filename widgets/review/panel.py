"""The Predictions dock: model choice, what to show, threshold, review, accept, predict all.

Shows plain data and emits intents; the app's ReviewController does the work.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton,
                               QSlider, QVBoxLayout, QWidget)

SHOW_MODES = ("both", "labels", "predictions")


class ReviewPanel(QWidget):
    run_picked = Signal(object)          # run id or None
    show_mode_changed = Signal(str)      # "both" | "labels" | "predictions"
    threshold_changed = Signal(float)
    iou_changed = Signal(float)
    review_toggled = Signal(bool)
    hidden_classes_changed = Signal(list)
    accept_requested = Signal()          # everything shown above the threshold, this frame
    accept_range_requested = Signal()    # a frame range of the video
    predict_all_requested = Signal()
    cancel_requested = Signal()
    sort_changed = Signal(bool, bool)    # most mistakes first, mistakes only
    metrics_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        form = QFormLayout()
        self.runs = QComboBox()
        self.runs.currentIndexChanged.connect(lambda _i: self.run_picked.emit(self.runs.currentData()))
        form.addRow("Model", self.runs)
        self.show_mode = QComboBox()
        self.show_mode.addItems(["labels and predictions", "labels only", "predictions only"])
        self.show_mode.currentIndexChanged.connect(
            lambda i: self.show_mode_changed.emit(SHOW_MODES[i]))
        form.addRow("Show", self.show_mode)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setValue(50)
        self.slider_label = QLabel("0.50")
        self.slider.valueChanged.connect(self._slid)
        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.slider_label)
        form.addRow("Score ≥", row)
        self.iou = QDoubleSpinBox()
        self.iou.setRange(0.05, 0.95)
        self.iou.setSingleStep(0.05)
        self.iou.setValue(0.5)
        self.iou.valueChanged.connect(self.iou_changed)
        form.addRow("Match IoU ≥", self.iou)
        self.review = QCheckBox("Review against labels (TP / FP / missed)")
        self.review.toggled.connect(self.review_toggled)
        self.sort = QCheckBox("Most mistakes first")
        self.only = QCheckBox("Only media with mistakes")
        for box in (self.sort, self.only):
            box.toggled.connect(lambda _on: self.sort_changed.emit(self.sort.isChecked(),
                                                                   self.only.isChecked()))
        self.classes = QListWidget()
        self.classes.setMaximumHeight(110)
        self.classes.itemChanged.connect(lambda _item: self.hidden_classes_changed.emit(self.hidden()))
        self.stats = QLabel("no model")
        self.stats.setWordWrap(True)
        self.hint = QLabel("")             # how much of the labelled data is predicted
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #9aa0a6;")
        self.accept = QPushButton("Accept shown predictions")
        self.accept.setToolTip("Turn every prediction shown (above the threshold) into a label; "
                               "double-click a single prediction to accept just that one")
        self.accept.clicked.connect(self.accept_requested)
        self.accept_range = QPushButton("Accept over frame range…")
        self.accept_range.clicked.connect(self.accept_range_requested)
        self.predict_all = QPushButton("Predict all")
        self.predict_all.clicked.connect(self.predict_all_requested)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancel_requested)
        self.cancel.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.metrics = QPushButton("Metrics: AP, PR curve, confusion…")
        self.metrics.clicked.connect(self.metrics_requested)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for w in (self.review, self.sort, self.only, QLabel("Classes shown"), self.classes,
                  self.stats, self.hint, self.accept, self.accept_range):
            layout.addWidget(w)
        row = QHBoxLayout()
        row.addWidget(self.predict_all, 1)
        row.addWidget(self.cancel)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.metrics)
        layout.addStretch(1)
        self.set_has_model(False)

    # -- data in --------------------------------------------------------------------
    def set_runs(self, runs: list[tuple[int, str]], active: int | None) -> None:
        self.runs.blockSignals(True)
        self.runs.clear()
        self.runs.addItem("none", None)
        for run_id, name in runs:
            self.runs.addItem(name, run_id)
        self.runs.setCurrentIndex(max(0, self.runs.findData(active)) if active is not None else 0)
        self.runs.blockSignals(False)

    def set_classes(self, classes: list[tuple[int, str, str]]) -> None:
        hidden = set(self.hidden())
        self.classes.blockSignals(True)
        self.classes.clear()
        for class_id, name, color in classes:
            item = QListWidgetItem(name)
            item.setData(Qt.UserRole, class_id)
            item.setForeground(Qt.white)
            item.setBackground(_color(color))
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Unchecked if class_id in hidden else Qt.Checked)
            self.classes.addItem(item)
        self.classes.blockSignals(False)

    def hidden(self) -> list[int]:
        return [self.classes.item(i).data(Qt.UserRole) for i in range(self.classes.count())
                if self.classes.item(i).checkState() != Qt.Checked]

    def threshold(self) -> float:
        return self.slider.value() / 100.0

    def set_has_model(self, on: bool, video: bool = False) -> None:
        busy = self.cancel.isEnabled()
        for w in (self.accept, self.review, self.sort, self.only, self.metrics):
            w.setEnabled(on)
        self.predict_all.setEnabled(on and not busy)
        self.accept_range.setEnabled(on and video)

    def set_stats(self, text: str) -> None:
        self.stats.setText(text)

    def set_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.setVisible(bool(text))

    def set_busy(self, done: int, total: int) -> None:
        self.progress.setVisible(True)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} / {total}")
        self.cancel.setEnabled(True)
        self.predict_all.setEnabled(False)

    def set_idle(self) -> None:
        self.progress.setVisible(False)
        self.cancel.setEnabled(False)
        self.predict_all.setEnabled(self.runs.currentData() is not None)

    def _slid(self, value: int) -> None:
        self.slider_label.setText(f"{value / 100:.2f}")
        self.threshold_changed.emit(value / 100.0)


def _color(name: str):
    from PySide6.QtGui import QColor

    return QColor(name).darker(130)
