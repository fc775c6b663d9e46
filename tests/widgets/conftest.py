"""Helpers for driving widgets with real mouse events (QTest.mouseMove carries no buttons)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication


def send_mouse(widget, kind, pos, button=Qt.NoButton, buttons=Qt.NoButton, mods=Qt.NoModifier):
    pos = QPointF(pos)
    glob = QPointF(widget.mapToGlobal(pos.toPoint()))
    QApplication.sendEvent(widget, QMouseEvent(kind, pos, glob, button, buttons, mods))


def drag(widget, start, end, button=Qt.LeftButton, mods=Qt.NoModifier, steps=4):
    """Press at ``start``, move in ``steps`` with the button held, release at ``end``."""
    start, end = QPointF(start), QPointF(end)
    send_mouse(widget, QEvent.MouseButtonPress, start, button, button, mods)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        send_mouse(widget, QEvent.MouseMove, p, Qt.NoButton, button, mods)
    send_mouse(widget, QEvent.MouseButtonRelease, end, button, Qt.NoButton, mods)


def click(widget, pos, button=Qt.LeftButton, mods=Qt.NoModifier):
    send_mouse(widget, QEvent.MouseButtonPress, pos, button, button, mods)
    send_mouse(widget, QEvent.MouseButtonRelease, pos, button, Qt.NoButton, mods)


@pytest.fixture
def solid_image():
    def make(w=400, h=300, color=Qt.darkGray):
        img = QImage(w, h, QImage.Format_RGB32)
        img.fill(color)
        return img
    return make


def as_point(p) -> QPoint:
    return p if isinstance(p, QPoint) else p.toPoint()
