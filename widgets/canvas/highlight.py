"""RegionHighlight: one region of the picture pointed out (a probable label error),
drawn over everything: a wide dashed magenta frame on a dark halo, constant on
screen at any zoom, with its reason above it. Plain data in; it takes no clicks."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsObject

from widgets.canvas.render import label_cache

COLOR = "#ff2bd6"
MARGIN = 6.0      # screen pixels around the region


class RegionHighlight(QGraphicsObject):
    def __init__(self) -> None:
        super().__init__()
        self.setZValue(20)
        self.setAcceptedMouseButtons(Qt.NoButton)
        self._size = (0.0, 0.0)
        self.region: tuple[float, float, float, float] | None = None
        self.text = ""

    def set_size(self, width: float, height: float) -> None:
        if (width, height) != self._size:
            self.prepareGeometryChange()
            self._size = (width, height)

    def set_region(self, rect: tuple[float, float, float, float] | None, text: str = "") -> None:
        self.region, self.text = (tuple(rect) if rect is not None else None), text
        self.update()

    def clear(self) -> None:
        self.set_region(None)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, *self._size)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self.region is None:
            return
        t = painter.worldTransform()
        x1, y1, x2, y2 = self.region
        box = t.mapRect(QRectF(QPointF(x1, y1), QPointF(x2, y2))).adjusted(
            -MARGIN, -MARGIN, MARGIN, MARGIN)
        painter.save()
        painter.resetTransform()
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(QColor(0, 0, 0, 200), 6))
        painter.drawRect(box)
        pen = QPen(QColor(COLOR), 3)
        pen.setDashPattern([4.0, 2.0])
        painter.setPen(pen)
        painter.drawRect(box)
        if self.text:
            pill = label_cache().get(self.text, QColor(COLOR).darker(160).name(), "predicted")
            y = box.top() - pill.height() - 2
            painter.drawImage(QPointF(box.left(), y if y >= 0 else box.bottom() + 2), pill)
        painter.restore()
