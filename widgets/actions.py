"""QAction construction in one place: controllers own their actions, the shell lays
them out into menus and adds them to the window so their shortcuts work whichever
dock has focus."""

from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


def make_action(parent: QWidget | None, text: str, slot: Callable, shortcut=None, *,
                checkable: bool = False, checked: bool = False) -> QAction:
    """``slot`` gets no argument (``checkable``: the new state). ``shortcut``: a key
    sequence string, a ``QKeySequence.StandardKey`` or a list of either."""
    action = QAction(text, parent)
    if shortcut is not None:
        keys = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(k) for k in keys])
    if checkable:
        action.setCheckable(True)
        action.setChecked(checked)
        action.toggled.connect(slot)
    else:
        action.triggered.connect(lambda _=False: slot())
    return action
