"""Image-level tags (concepts) as checkable rows, plus suggested tags from a classifier.

``set_checked`` is the app's answer; a user's tick only emits ``toggled`` (the row shows the
tick provisionally until the app calls ``set_checked``/``set_tags`` again).
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu,
                               QPushButton, QToolButton, QVBoxLayout, QWidget)

from widgets.classes_panel import ask_new_name, ask_text_dialog, confirm_dialog

IdRole = Qt.UserRole + 1


@dataclass(frozen=True)
class TagRow:
    id: int
    name: str
    hotkey: str | None = None


class TagsPanel(QWidget):
    toggled = Signal(int, bool)  # tag id, on
    add_requested = Signal(str)
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)
    suggestion_accepted = Signal(int)  # tag id

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.ask_text = lambda title, label, default="": ask_text_dialog(self, title, label, default)
        self.confirm = lambda title, text: confirm_dialog(self, title, text)
        self._tags: list[TagRow] = []
        self._checked: set[int] = set()
        self._suggestions: list[tuple[int, float]] = []

        self.list = QListWidget(self)
        self.list.itemChanged.connect(self._item_changed)
        self.list.itemDoubleClicked.connect(lambda *_: self.rename_current())
        self.list.currentItemChanged.connect(lambda *_: self._update_actions())
        self.list.setContextMenuPolicy(Qt.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)

        self.actions: dict[str, QAction] = {}
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for key, text, tip, slot in [("add", "+", "Add a tag", self.add_tag),
                                     ("rename", "✎", "Rename the tag", self.rename_current),
                                     ("delete", "−", "Delete the tag", self.delete_current)]:
            act = QAction(text, self, toolTip=tip)
            act.triggered.connect(slot)
            self.actions[key] = act
            b = QToolButton(self)
            b.setDefaultAction(act)
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.suggestions_box = QWidget(self)
        sl = QVBoxLayout(self.suggestions_box)
        sl.setContentsMargins(0, 4, 0, 0)
        title = QLabel("Suggested", self.suggestions_box)
        title.setStyleSheet("color: palette(placeholder-text); font-weight: 600;")
        sl.addWidget(title)
        self._suggestion_row = QVBoxLayout()
        self._suggestion_row.setSpacing(2)
        sl.addLayout(self._suggestion_row)
        self.suggestions_box.hide()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.list, 1)
        lay.addLayout(buttons)
        lay.addWidget(self.suggestions_box)
        self._update_actions()

    # -- data in --------------------------------------------------------------------------
    def set_tags(self, tags: list[TagRow]) -> None:
        current = self.current_id()
        self._tags = list(tags)
        self.list.blockSignals(True)
        self.list.clear()
        for t in tags:
            text = f"{t.name}   [{t.hotkey}]" if t.hotkey else t.name
            item = QListWidgetItem(text)
            item.setData(IdRole, t.id)
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if t.id in self._checked else Qt.Unchecked)
            self.list.addItem(item)
            if t.id == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self._checked &= {t.id for t in tags}
        self._render_suggestions()
        self._update_actions()

    def tags(self) -> list[TagRow]:
        return list(self._tags)

    def set_checked(self, ids) -> None:
        self._checked = set(ids)
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            it = self.list.item(i)
            it.setCheckState(Qt.Checked if it.data(IdRole) in self._checked else Qt.Unchecked)
        self.list.blockSignals(False)
        self._render_suggestions()

    def checked(self) -> set[int]:
        """Ticked rows as shown now (including a user's provisional tick)."""
        return {self.list.item(i).data(IdRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.Checked}

    def set_suggestions(self, suggestions: list[tuple[int, float]]) -> None:
        self._suggestions = sorted(suggestions, key=lambda s: -s[1])
        self._render_suggestions()

    def suggestion_buttons(self) -> list[QPushButton]:
        return [self._suggestion_row.itemAt(i).widget() for i in range(self._suggestion_row.count())]

    def _render_suggestions(self) -> None:
        while self._suggestion_row.count():
            w = self._suggestion_row.takeAt(0).widget()
            w.deleteLater()
        names = {t.id: t.name for t in self._tags}
        shown = [(tid, conf) for tid, conf in self._suggestions
                 if tid in names and tid not in self._checked]
        for tid, conf in shown:
            b = QPushButton(f"+ {names[tid]}  {conf:.0%}", self.suggestions_box)
            b.setToolTip(f"Add tag “{names[tid]}” (confidence {conf:.2f})")
            b.setStyleSheet("text-align: left; padding: 2px 6px;")
            b.clicked.connect(lambda _=False, tid=tid: self.suggestion_accepted.emit(tid))
            self._suggestion_row.addWidget(b)
        self.suggestions_box.setVisible(bool(shown))

    # -- intents --------------------------------------------------------------------------
    def toggle(self, tag_id: int) -> None:
        """Flip ``tag_id`` as a hot key would."""
        for i in range(self.list.count()):
            it = self.list.item(i)
            if it.data(IdRole) == tag_id:
                it.setCheckState(Qt.Unchecked if it.checkState() == Qt.Checked else Qt.Checked)

    def _item_changed(self, item: QListWidgetItem) -> None:
        self.toggled.emit(item.data(IdRole), item.checkState() == Qt.Checked)

    def current_id(self) -> int | None:
        it = self.list.currentItem()
        return None if it is None else it.data(IdRole)

    def _current_tag(self) -> TagRow | None:
        cid = self.current_id()
        return next((t for t in self._tags if t.id == cid), None)

    def add_tag(self) -> None:
        name = ask_new_name(self.ask_text, "New tag")
        if name:
            self.add_requested.emit(name)

    def rename_current(self) -> None:
        tag = self._current_tag()
        if tag is None:
            return
        name = ask_new_name(self.ask_text, "Rename tag", tag.name)
        if name:
            self.rename_requested.emit(tag.id, name)

    def delete_current(self) -> None:
        tag = self._current_tag()
        if tag is not None and self.confirm(
                "Delete tag", f"Delete tag “{tag.name}”?\n\nIt is removed from every image."):
            self.delete_requested.emit(tag.id)

    def _update_actions(self) -> None:
        has = self.current_id() is not None
        self.actions["rename"].setEnabled(has)
        self.actions["delete"].setEnabled(has)

    def _menu(self, pos) -> None:
        menu = QMenu(self)
        menu.addAction("Add tag…", self.add_tag)
        if self._current_tag() is not None:
            menu.addAction("Rename…", self.rename_current)
            menu.addAction("Delete…", self.delete_current)
        menu.popup(self.list.viewport().mapToGlobal(pos))
