"""PredictionOverlay: the model's boxes over the canvas image, as plain data in.

Predictions are drawn so that they show on any photo: a contrasting halo (dark under
light colours, light under dark ones) under a dashed outline, both a constant width
on screen at any zoom. Captions ("class score") are placed where they cover no other
caption (below the box, else above it, else inside; one that fits nowhere is left
out). In review mode true positives, false positives and missed labels get three
fixed colours; on a picture not labelled yet predictions are proposals, neither
right nor wrong. The overlay only draws: filtering by score and class happens here,
picking is ``box_at``.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsObject

from widgets.canvas.render import label_cache, label_rects

REVIEW_COLORS = {"tp": "#2ecc71", "fp": "#ff4d4d", "fn": "#ffd400"}
REVIEW_NAMES = {"tp": "correct", "fp": "false positive", "fn": "missed label",
                "proposal": "proposal (picture not labelled yet)"}
OUTLINE_PX, HALO_PX = 2.0, 4.0     # on screen, whatever the zoom
CAPTIONS_MAX = 400


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
    status: str | None = None    # None, or "tp" / "fp" / "fn" / "proposal" in review mode


class PredictionOverlay(QGraphicsObject):
    def __init__(self) -> None:
        super().__init__()
        self.setZValue(10)       # above the image and the label boxes
        self.setAcceptedMouseButtons(Qt.NoButton)
        self._size = (0.0, 0.0)
        self._boxes: list[OverlayBox] = []
        self.threshold = 0.5
        self.hidden_classes: set[int] = set()
        self.hidden_ids: set[int] = set()   # shown elsewhere (as proposals on the canvas)
        self.review = False
        self.stale = False
        self.captions_shown = 0      # captions drawn by the last paint (tests, benchmarks)
        self._label_shapes: list = []   # the label boxes on screen: captions keep off theirs

    # -- data in --------------------------------------------------------------------
    def set_size(self, width: float, height: float) -> None:
        if (width, height) != self._size:
            self.prepareGeometryChange()
            self._size = (width, height)

    def set_boxes(self, boxes: list[OverlayBox], stale: bool = False) -> None:
        self._boxes, self.stale = list(boxes), stale
        self.update()

    def set_label_shapes(self, shapes: list) -> None:
        """The label boxes shown with labels (``BoxShape``): prediction captions are
        placed clear of their labels too."""
        self._label_shapes = list(shapes)
        self.update()

    def set_threshold(self, value: float) -> None:
        self.threshold = float(value)
        self.update()

    def set_hidden_classes(self, ids) -> None:
        self.hidden_classes = set(ids)
        self.update()

    def set_hidden_ids(self, ids) -> None:
        ids = set(ids)
        if ids != self.hidden_ids:
            self.hidden_ids = ids
            self.update()

    def set_review(self, on: bool) -> None:
        self.review = bool(on)
        self.update()

    def boxes(self) -> list[OverlayBox]:
        return list(self._boxes)

    def visible_boxes(self) -> list[OverlayBox]:
        """What is drawn now: above the threshold (missed labels always), classes shown."""
        return [b for b in self._boxes if b.class_id not in self.hidden_classes
                and b.id not in self.hidden_ids and (b.status == "fn" or (b.score or 0.0) >= self.threshold)
                and (self.review or b.status != "fn")]

    def box_at(self, x: float, y: float) -> OverlayBox | None:
        """The smallest shown prediction (not a missed label) containing the point."""
        hits = [b for b in self.visible_boxes() if b.status != "fn"
                and b.x1 <= x <= b.x2 and b.y1 <= y <= b.y2]
        return min(hits, key=lambda b: (b.x2 - b.x1) * (b.y2 - b.y1), default=None)

    # -- painting -------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, *self._size)

    def _color(self, b: OverlayBox) -> QColor:
        c = QColor(REVIEW_COLORS[b.status] if self.review and b.status in REVIEW_COLORS
                   else b.color)
        return c.darker(140) if self.stale else c

    def paint(self, painter: QPainter, option, widget=None) -> None:
        shown = self.visible_boxes()
        groups: dict[tuple[str, bool], list[QRectF]] = {}
        for b in shown:
            rect = QRectF(QPointF(b.x1, b.y1), QPointF(b.x2, b.y2))
            groups.setdefault((self._color(b).name(), b.status == "fn"), []).append(rect)
        painter.setBrush(Qt.NoBrush)
        for (name, solid), rects in groups.items():
            c = QColor(name)
            halo = QPen(_halo(c), HALO_PX)   # cosmetic pens: constant on screen at any zoom
            halo.setCosmetic(True)
            halo.setJoinStyle(Qt.MiterJoin)
            painter.setPen(halo)
            painter.drawRects(rects)
            pen = QPen(c, OUTLINE_PX, Qt.SolidLine)
            pen.setCosmetic(True)
            pen.setJoinStyle(Qt.MiterJoin)
            if not solid:               # predictions dashed over the halo, missed labels solid
                pen.setDashPattern([4.0, 2.0])
            painter.setPen(pen)
            painter.drawRects(rects)
        self._captions(painter, shown)

    def _captions(self, painter: QPainter, shown: list[OverlayBox]) -> None:
        """Captions at a constant size on screen, none over another: the best scores
        get the first choice of place."""
        t = painter.worldTransform()
        painter.save()
        painter.resetTransform()
        captions = label_cache()     # pre-rendered pills: a repaint is one blit per caption
        edge = t.mapRect(QRectF(0, 0, *self._size))
        placed: list[QRectF] = label_rects(t, self._label_shapes, *self._size)
        taken = len(placed)
        order = sorted(shown, key=lambda b: (b.status != "fn", -(b.score or 0.0)))
        for b in order[:CAPTIONS_MAX]:
            text = b.label if b.score is None else f"{b.label} {b.score:.2f}"
            if self.review and b.status:
                text += f" · {'PROPOSAL' if b.status == 'proposal' else b.status.upper()}"
            pill = captions.get(text, self._color(b).darker(200).name(), "predicted")
            box = t.mapRect(QRectF(QPointF(b.x1, b.y1), QPointF(b.x2, b.y2)))
            spot = _free_spot(box, pill.width(), pill.height(), placed, edge)
            if spot is not None:
                placed.append(spot)
                painter.drawImage(spot.topLeft(), pill)
        self.captions_shown = len(placed) - taken
        painter.restore()


def _halo(c: QColor) -> QColor:
    """Black under light colours, white under dark ones: the outline shows on any photo."""
    luma = 0.299 * c.redF() + 0.587 * c.greenF() + 0.114 * c.blueF()
    return QColor(0, 0, 0) if luma > 0.45 else QColor(255, 255, 255)


def _free_spot(box: QRectF, w: int, h: int, placed: list[QRectF], edge: QRectF) -> QRectF | None:
    """Where a ``w`` x ``h`` caption of ``box`` (device pixels) covers no placed one:
    below its bottom-left corner (label captions sit above a box), above its top-left,
    then inside its top-left and bottom-left; kept inside the image."""
    x = round(min(max(box.left(), edge.left()), edge.right() - w))
    for y in (box.bottom() + 1, box.top() - h - 1, box.top() + 1, box.bottom() - h - 1):
        y = round(y)
        if y < edge.top() or y + h > edge.bottom() + 1:
            continue
        spot = QRectF(x, y, w, h)
        if not any(spot.intersects(p) for p in placed):
            return spot
    return None
