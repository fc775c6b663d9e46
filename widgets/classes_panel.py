"""Class list: colour swatch, name, hot key and box count; every change is an intent signal.

Dialogs are injectable callables so tests (and the app) can answer them:
``ask_text(title, label, default) -> str | None``, ``ask_color(initial "#rrggbb") -> str | None``,
``confirm(title, text) -> bool``.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QColorDialog, QHBoxLayout, QHeaderView,
                               QInputDialog, QMenu, QMessageBox, QToolButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

IdRole = Qt.UserRole + 1


@dataclass(frozen=True)
class ClassRow:
    id: int
    name: str
    color: str  # "#rrggbb"
    hotkey: str | None
    box_count: int          # every label box, interpolated ones included
    interpolated: int = 0   # of which interpolated between video keyframes

    @property
    def count_text(self) -> str:
        """Drawn boxes, and the interpolated ones apart: they are not the user's work."""
        drawn = self.box_count - self.interpolated
        return f"{drawn:,} +{self.interpolated:,} interp." if self.interpolated else f"{drawn:,}"


def swatch(color: str, size: int = 14) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(QColor(color))
    return QIcon(pix)


def ask_text_dialog(parent, title: str, label: str, default: str = "") -> str | None:
    text, ok = QInputDialog.getText(parent, title, label, text=default)
    text = text.strip()
    return text if ok and text else None


def ask_new_name(ask_text, title: str, current: str = "") -> str | None:
    """A name typed into ``ask_text`` (a panel's injectable dialog), stripped; None when
    cancelled, blank or unchanged from ``current``."""
    name = (ask_text(title, "Name:", current) or "").strip()
    return name if name and name != current else None


def ask_color_dialog(parent, initial: str) -> str | None:
    c = QColorDialog.getColor(QColor(initial), parent, "Class colour")
    return c.name() if c.isValid() else None


def confirm_dialog(parent, title: str, text: str) -> bool:
    return QMessageBox.question(parent, title, text, QMessageBox.Yes | QMessageBox.No,
                                QMessageBox.No) == QMessageBox.Yes


def delete_message(row: ClassRow) -> str:
    n = row.box_count
    boxes = "1 box" if n == 1 else f"{n:,} boxes"
    return f"Delete class “{row.name}”?\n\nThis deletes {boxes} labelled with it." if n else \
        f"Delete class “{row.name}”?\n\nNo boxes use it."


class _ReorderTree(QTreeWidget):
    reordered = Signal()

    def dropEvent(self, event) -> None:
        super().dropEvent(event)
        self.reordered.emit()


class ClassesPanel(QWidget):
    current_changed = Signal(int)
    add_requested = Signal(str)
    rename_requested = Signal(int, str)
    recolor_requested = Signal(int, str)
    reorder_requested = Signal(list)  # ids in the new order
    delete_requested = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.ask_text = lambda title, label, default="": ask_text_dialog(self, title, label, default)
        self.ask_color = lambda initial: ask_color_dialog(self, initial)
        self.confirm = lambda title, text: confirm_dialog(self, title, text)
        self._rows: list[ClassRow] = []

        self.tree = _ReorderTree(self)
        self.tree.setHeaderLabels(["Class", "Key", "Boxes"])
        self.tree.headerItem().setToolTip(2, "Boxes drawn (+ boxes interpolated between video "
                                             "keyframes)")
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SingleSelection)
        self.tree.setDragDropMode(QAbstractItemView.InternalMove)
        self.tree.setDefaultDropAction(Qt.MoveAction)
        h = self.tree.header()
        h.setStretchLastSection(False)
        h.setSectionResizeMode(0, QHeaderView.Stretch)
        h.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        h.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        self.tree.currentItemChanged.connect(self._current)
        self.tree.itemDoubleClicked.connect(lambda *_: self.rename_current())
        self.tree.reordered.connect(self._emit_order)
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)

        self.actions: dict[str, QAction] = {}
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for key, text, tip, slot in [
            ("add", "+", "Add a class", self.add_class),
            ("rename", "✎", "Rename the class", self.rename_current),
            ("color", "●", "Change the colour", self.recolor_current),
            ("up", "↑", "Move up", lambda: self.move_current(-1)),
            ("down", "↓", "Move down", lambda: self.move_current(+1)),
            ("delete", "−", "Delete the class and its boxes", self.delete_current),
        ]:
            act = QAction(text, self, toolTip=tip)
            act.triggered.connect(slot)
            self.actions[key] = act
            b = QToolButton(self)
            b.setDefaultAction(act)
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tree, 1)
        lay.addLayout(buttons)
        self._update_actions()

    # -- data in --------------------------------------------------------------------------
    def set_classes(self, rows: list[ClassRow]) -> None:
        keep = self.current_id()
        self._rows = list(rows)
        self.tree.blockSignals(True)
        self.tree.clear()
        for r in rows:
            item = QTreeWidgetItem([r.name, r.hotkey or "", r.count_text])
            item.setIcon(0, swatch(r.color))
            item.setData(0, IdRole, r.id)
            item.setTextAlignment(1, Qt.AlignCenter)
            item.setTextAlignment(2, Qt.AlignRight | Qt.AlignVCenter)
            boxes = (f"{r.box_count - r.interpolated} boxes drawn, {r.interpolated} interpolated "
                     "between video keyframes" if r.interpolated else f"{r.box_count} boxes")
            item.setToolTip(0, f"{r.name} — {boxes}" + (f", hot key {r.hotkey}" if r.hotkey else ""))
            item.setToolTip(2, item.toolTip(0))
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
            self.tree.addTopLevelItem(item)
        self.tree.blockSignals(False)
        if keep is not None:
            self.set_current(keep)
        self._update_actions()

    def classes(self) -> list[ClassRow]:
        return list(self._rows)

    def set_current(self, class_id: int) -> None:
        """Select ``class_id`` without emitting ``current_changed`` (the app said so)."""
        item = self._item(class_id)
        self.tree.blockSignals(True)
        self.tree.setCurrentItem(item)
        self.tree.blockSignals(False)
        self._update_actions()

    def current_id(self) -> int | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(0, IdRole)

    def current_row(self) -> ClassRow | None:
        cid = self.current_id()
        return next((r for r in self._rows if r.id == cid), None)

    def _item(self, class_id: int) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if it.data(0, IdRole) == class_id:
                return it
        return None

    def order(self) -> list[int]:
        return [self.tree.topLevelItem(i).data(0, IdRole) for i in range(self.tree.topLevelItemCount())]

    # -- intents --------------------------------------------------------------------------
    def add_class(self) -> None:
        name = ask_new_name(self.ask_text, "New class")
        if name:
            self.add_requested.emit(name)

    def rename_current(self) -> None:
        row = self.current_row()
        if row is None:
            return
        name = ask_new_name(self.ask_text, "Rename class", row.name)
        if name:
            self.rename_requested.emit(row.id, name)

    def recolor_current(self) -> None:
        row = self.current_row()
        if row is None:
            return
        color = self.ask_color(row.color)
        if color and QColor(color).isValid() and QColor(color).name() != QColor(row.color).name():
            self.recolor_requested.emit(row.id, QColor(color).name())

    def move_current(self, step: int) -> None:
        order = self.order()
        cid = self.current_id()
        if cid is None:
            return
        i = order.index(cid)
        j = i + step
        if not 0 <= j < len(order):
            return
        order[i], order[j] = order[j], order[i]
        self.reorder_requested.emit(order)

    def delete_current(self) -> None:
        row = self.current_row()
        if row is not None and self.confirm("Delete class", delete_message(row)):
            self.delete_requested.emit(row.id)

    def _emit_order(self) -> None:
        order = self.order()
        if order != [r.id for r in self._rows]:
            self.reorder_requested.emit(order)

    def _current(self, item, _prev) -> None:
        self._update_actions()
        if item is not None:
            self.current_changed.emit(item.data(0, IdRole))

    def _update_actions(self) -> None:
        has = self.current_id() is not None
        order = self.order()
        i = order.index(self.current_id()) if has else -1
        for key in ("rename", "color", "delete"):
            self.actions[key].setEnabled(has)
        self.actions["up"].setEnabled(has and i > 0)
        self.actions["down"].setEnabled(has and i < len(order) - 1)

    def _menu(self, pos) -> None:
        menu = QMenu(self)
        menu.addAction(self.actions["add"].toolTip(), self.add_class)
        if self.current_row() is not None:
            menu.addAction("Rename…", self.rename_current)
            menu.addAction("Change colour…", self.recolor_current)
            menu.addAction("Move up", lambda: self.move_current(-1)).setEnabled(self.actions["up"].isEnabled())
            menu.addAction("Move down", lambda: self.move_current(+1)).setEnabled(self.actions["down"].isEnabled())
            menu.addSeparator()
            menu.addAction("Delete…", self.delete_current)
        menu.popup(self.tree.viewport().mapToGlobal(pos))
