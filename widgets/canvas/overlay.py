"""PredictionOverlay: the model's boxes over the canvas image, as plain data in.

Predictions are dashed with "class score" captions; in review mode true positives,
false positives and missed labels get three fixed colours. A head-up line (model
frame rate, latency, stale) sits in the image's top-left corner. The overlay only
draws: filtering by score and class happens here, picking is ``box_at``.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QGraphicsObject

from widgets.canvas.render import label_cache

REVIEW_COLORS = {"tp": "#2ecc71", "fp": "#ff4d4d", "fn": "#ffd400"}
REVIEW_NAMES = {"tp": "correct", "fp": "false positive", "fn": "missed label"}


@dataclass(frozen=True)
class OverlayBox:
    id: int                      # prediction box id (for a missed label: the label's id)
    x1: float
    y1: float
    x2: float
    y2: float
    class_id: int
    label: str
    color: str
    score: float | None = None
    status: str | None = None    # None, or "tp" / "fp" / "fn" in review mode


class PredictionOverlay(QGraphicsObject):
    def __init__(self) -> None:
        super().__init__()
        self.setZValue(10)       # above the image and the label boxes
        self.setAcceptedMouseButtons(Qt.NoButton)
        self._size = (0.0, 0.0)
        self._boxes: list[OverlayBox] = []
        self.threshold = 0.5
        self.hidden_classes: set[int] = set()
        self.review = False
        self.stale = False
        self.hud = ""
        self._font = QFont()
        self._font.setPixelSize(11)
        self._fm = QFontMetrics(self._font)

    # -- data in --------------------------------------------------------------------
    def set_size(self, width: float, height: float) -> None:
        if (width, height) != self._size:
            self.prepareGeometryChange()
            self._size = (width, height)

    def set_boxes(self, boxes: list[OverlayBox], stale: bool = False) -> None:
        self._boxes, self.stale = list(boxes), stale
        self.update()

    def set_threshold(self, value: float) -> None:
        self.threshold = float(value)
        self.update()

    def set_hidden_classes(self, ids) -> None:
        self.hidden_classes = set(ids)
        self.update()

    def set_review(self, on: bool) -> None:
        self.review = bool(on)
        self.update()

    def set_hud(self, text: str) -> None:
        self.hud = text
        self.update()

    def boxes(self) -> list[OverlayBox]:
        return list(self._boxes)

    def visible_boxes(self) -> list[OverlayBox]:
        """What is drawn now: above the threshold (missed labels always), classes shown."""
        return [b for b in self._boxes if b.class_id not in self.hidden_classes
                and (b.status == "fn" or (b.score or 0.0) >= self.threshold)
                and (self.review or b.status != "fn")]

    def box_at(self, x: float, y: float) -> OverlayBox | None:
        """The smallest shown prediction (not a missed label) containing the point."""
        hits = [b for b in self.visible_boxes() if b.status != "fn"
                and b.x1 <= x <= b.x2 and b.y1 <= y <= b.y2]
        return min(hits, key=lambda b: (b.x2 - b.x1) * (b.y2 - b.y1), default=None)

    # -- painting -------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, *self._size)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        shown = self.visible_boxes()
        groups: dict[tuple[str, bool], list[QRectF]] = {}
        for b in shown:
            color = REVIEW_COLORS[b.status] if self.review and b.status else b.color
            rect = QRectF(QPointF(b.x1, b.y1), QPointF(b.x2, b.y2))
            groups.setdefault((color, b.status == "fn"), []).append(rect)
        painter.setBrush(Qt.NoBrush)
        for (color, solid), rects in groups.items():
            c = QColor(color)
            if self.stale:
                c = c.darker(140)
            pen = QPen(c, 2 if solid else 1, Qt.SolidLine if solid else Qt.DashLine)  # thin dashes: wide ones raster slowly
            pen.setCosmetic(True)  # dashes and width constant on screen at any zoom
            painter.setPen(pen)
            painter.drawRects(rects)
        t = painter.worldTransform()
        painter.save()
        painter.resetTransform()   # captions at a constant size on screen
        painter.setFont(self._font)
        h = self._fm.height()
        captions = label_cache()   # pre-rendered pills: a repaint is one blit per caption
        for b in shown[:400]:
            text = b.label if b.score is None else f"{b.label} {b.score:.2f}"
            if self.review and b.status:
                text += f" · {b.status.upper()}"
            p = t.map(QPointF(b.x1, b.y2))   # below the box: label captions sit above it
            color = QColor(REVIEW_COLORS[b.status] if self.review and b.status else b.color)
            painter.drawImage(QPointF(round(p.x()), round(p.y())),
                              captions.get(text, color.darker(200).name(), "predicted"))
        if self.hud:
            origin = t.map(QPointF(0, 0))
            text = self.hud + ("  · stale" if self.stale else "")
            w = self._fm.horizontalAdvance(text) + 10
            painter.fillRect(QRectF(origin.x() + 6, origin.y() + 6, w, h + 6), QColor(0, 0, 0, 170))
            painter.setPen(QColor("#ffd400") if self.stale else QColor("#ffffff"))
            painter.drawText(QRectF(origin.x() + 11, origin.y() + 9, w, h), Qt.AlignVCenter, text)
        painter.restore()
