"""ZoomPanView: a QGraphicsView over an image-sized scene with zoom about a point and free pan.

Scene coordinates are image pixels. Subclasses say how big the image is (``image_size``).
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QTransform
from PySide6.QtWidgets import QFrame, QGraphicsView

MIN_ZOOM, MAX_ZOOM, ZOOM_STEP = 0.02, 64.0, 1.25


class ZoomPanView(QGraphicsView):
    zoom_changed = Signal(float)  # device pixels per image pixel (1.0 = 100 %)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._fit = True  # re-fit on resize until the user zooms or pans
        self.setFrameShape(QFrame.NoFrame)
        self.setBackgroundBrush(QColor("#1e1f22"))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.NoAnchor)
        self.setResizeAnchor(QGraphicsView.NoAnchor)

    def image_size(self) -> tuple[float, float]:
        return (0.0, 0.0)

    # -- zoom and pan ---------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def fit_to_window(self) -> None:
        w, h = self.image_size()
        vp = self.viewport().size()
        if w <= 0 or h <= 0 or vp.width() <= 0 or vp.height() <= 0:
            return
        s = min(vp.width() / w, vp.height() / h)
        self._set_scale(s)
        self.centerOn(w / 2, h / 2)
        self._fit = True

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / ZOOM_STEP)

    def set_zoom(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``scale`` keeping the image point under ``anchor`` (viewport px) in place."""
        if anchor is None:
            anchor = QPointF(self.viewport().width() / 2, self.viewport().height() / 2)
        before = self.mapToScene(anchor.toPoint())
        self._set_scale(scale)
        after = self.mapFromScene(before)
        self._scroll_by(after.x() - anchor.toPoint().x(), after.y() - anchor.toPoint().y())
        self._fit = False

    def _set_scale(self, scale: float) -> None:
        scale = min(max(scale, MIN_ZOOM), MAX_ZOOM)
        if abs(scale - self.zoom()) < 1e-12:
            return
        self.setTransform(QTransform.fromScale(scale, scale))
        self._update_scene_rect()
        self.zoom_changed.emit(scale)

    def _update_scene_rect(self) -> None:
        # Room around the image to pan past its edges by most of a viewport.
        w, h = self.image_size()
        s = max(self.zoom(), 1e-6)
        mx, my = self.viewport().width() * 0.9 / s, self.viewport().height() * 0.9 / s
        if self.scene() is not None:
            self.scene().setSceneRect(QRectF(-mx, -my, w + 2 * mx, h + 2 * my))

    def _scroll_by(self, dx: float, dy: float) -> None:
        hs, vs = self.horizontalScrollBar(), self.verticalScrollBar()
        hs.setValue(hs.value() + round(dx))
        vs.setValue(vs.value() + round(dy))

    def _to_image(self, pos: QPointF) -> QPointF:
        """Image (scene) position of a viewport position."""
        return self.mapToScene(pos.toPoint())

    def viewport_point(self, x: float, y: float) -> QPoint:
        """Viewport position of image point (x, y) — handy for tests and tools."""
        return self.mapFromScene(QPointF(x, y))

    def pan(self, dx: float, dy: float) -> None:
        """Move the view content by (dx, dy) viewport pixels."""
        self._scroll_by(-dx, -dy)
        self._fit = False

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._update_scene_rect()
        if self._fit:
            self.fit_to_window()

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.set_zoom(self.zoom() * (ZOOM_STEP ** steps), event.position())
        event.accept()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawBackground(painter, rect)
        if not self.image_size()[0]:
            painter.save()
            painter.resetTransform()
            painter.setPen(QColor("#8a8d93"))
            painter.drawText(self.viewport().rect(), Qt.AlignCenter, "No image")
            painter.restore()

