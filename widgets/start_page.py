"""Start page: recent projects and New / Open / Demo. Emits intents only."""
from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QVBoxLayout, QWidget)

PathRole = Qt.UserRole + 1


def choose_project_dialog(parent) -> str | None:
    path = QFileDialog.getExistingDirectory(parent, "Open a Kestrel project")
    return path or None


class StartPage(QWidget):
    new_requested = Signal()
    open_requested = Signal(str)
    demo_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        #: ``choose_path() -> str | None`` — injectable for tests and for the app's own dialog.
        self.choose_path = lambda: choose_project_dialog(self)
        title = QLabel("Kestrel", self)
        f = title.font()
        f.setPointSizeF(f.pointSizeF() * 2.2)
        f.setBold(True)
        title.setFont(f)
        subtitle = QLabel("Label images and video, train detectors, review predictions.", self)
        subtitle.setStyleSheet("color: palette(placeholder-text);")
        self.new_button = QPushButton("New project…", self)
        self.open_button = QPushButton("Open project…", self)
        self.demo_button = QPushButton("Try the demo", self)
        self.new_button.clicked.connect(self.new_requested)
        self.open_button.clicked.connect(self._open)
        self.demo_button.clicked.connect(self.demo_requested)
        for b in (self.new_button, self.open_button, self.demo_button):
            b.setMinimumSize(180, 34)
        buttons = QVBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        self.recent_label = QLabel("Recent projects", self)
        self.recent = QListWidget(self)
        self.recent.itemActivated.connect(self._recent_activated)
        self.recent.itemDoubleClicked.connect(self._recent_activated)
        self.empty_label = QLabel("No recent projects yet.", self)
        self.empty_label.setStyleSheet("color: palette(placeholder-text);")
        right = QVBoxLayout()
        right.addWidget(self.recent_label)
        right.addWidget(self.recent, 1)
        right.addWidget(self.empty_label)
        body = QHBoxLayout()
        body.addLayout(buttons)
        body.addSpacing(24)
        body.addLayout(right, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(48, 40, 48, 40)
        lay.addWidget(title)
        lay.addWidget(subtitle)
        lay.addSpacing(24)
        lay.addLayout(body, 1)
        self.set_recent([])

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for p in paths:
            name = os.path.basename(os.path.normpath(p)) or p
            item = QListWidgetItem(f"{name}\n{p}")
            item.setData(PathRole, p)
            item.setToolTip(p)
            self.recent.addItem(item)
        self.recent.setVisible(bool(paths))
        self.empty_label.setVisible(not paths)

    def recent_paths(self) -> list[str]:
        return [self.recent.item(i).data(PathRole) for i in range(self.recent.count())]

    def _open(self) -> None:
        path = self.choose_path()
        if path:
            self.open_requested.emit(path)

    def _recent_activated(self, item: QListWidgetItem) -> None:
        self.open_requested.emit(item.data(PathRole))
