"""Where a run computes: *This machine* or a Ray cluster by address, with a Check
that shows what the cluster offers. Plain data in (availability, the cluster's
description), intents out (``check_requested``, ``changed``)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QWidget)

LOCAL, CLUSTER = "This machine", "Ray cluster"


class ComputeBox(QWidget):
    check_requested = Signal(str)    # the address to check
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.available, self.hint = True, ""
        self.choice = QComboBox()
        self.choice.addItems([LOCAL, CLUSTER])
        self.address = QLineEdit()
        self.address.setPlaceholderText("ray://HOST:10001 or http://HOST:8265")
        self.check_button = QPushButton("Check")
        self.workers = QSpinBox()
        self.workers.setRange(1, 1024)
        self.workers.setValue(2)
        self.workers.setToolTip("Ray Train workers (DDP ranks); one GPU each when the cluster has GPUs")
        self.storage = QLineEdit()
        self.storage.setPlaceholderText("optional: keep checkpoints on cluster storage "
                                        "(a shared path or s3://…)")
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextSelectableByMouse)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.address, 1)
        row.addWidget(self.check_button)
        self.cluster_rows = QWidget()
        form = QFormLayout(self.cluster_rows)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Address", row)
        form.addRow("Workers", self.workers)
        form.addRow("Storage", self.storage)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow(self.choice)
        layout.addRow(self.cluster_rows)
        layout.addRow(self.info)
        self.choice.currentIndexChanged.connect(self._chosen)
        self.check_button.clicked.connect(self._check)
        self.address.returnPressed.connect(self._check)
        for w in (self.address, self.storage):
            w.textChanged.connect(self.changed)
        self.workers.valueChanged.connect(self.changed)
        self._chosen()

    # -- plain data in ---------------------------------------------------------------------
    def set_available(self, available: bool, hint: str = "") -> None:
        """Whether Ray can be used here; ``hint`` says how to install it."""
        self.available, self.hint = available, hint
        self._chosen()

    def set_checking(self, address: str) -> None:
        self.info.setText(f"checking {address}…")

    def set_info(self, text: str, ok: bool = True) -> None:
        """The cluster's resources, or why it cannot be used."""
        self.info.setText(text if ok else f"<span style='color:#e15759'>{text}</span>")

    def set_target(self, target: dict | None) -> None:
        """Restore a choice (``{"address", "workers", "storage"}``, None: this machine)."""
        if target:
            self.address.setText(target.get("address", ""))
            self.workers.setValue(int(target.get("workers", 2)))
            self.storage.setText(target.get("storage") or "")
        self.choice.setCurrentText(CLUSTER if target else LOCAL)

    # -- intents ---------------------------------------------------------------------------
    def is_cluster(self) -> bool:
        return self.choice.currentText() == CLUSTER

    def target(self) -> dict | None:
        """The chosen cluster as plain data, or None for this machine."""
        if not self.is_cluster():
            return None
        return {"address": self.address.text().strip(), "workers": self.workers.value(),
                "storage": self.storage.text().strip() or None}

    def _chosen(self) -> None:
        cluster = self.is_cluster()
        self.cluster_rows.setVisible(cluster)
        self.cluster_rows.setEnabled(cluster and self.available)
        if cluster and not self.available:
            self.set_info(self.hint, ok=False)
        elif not cluster:
            self.info.setText("")
        self.changed.emit()

    def _check(self) -> None:
        if self.is_cluster() and self.available and self.address.text().strip():
            self.check_requested.emit(self.address.text().strip())
