"""Drawing of boxes as plain functions (labelme's ``render_shape(painter, shape, ctx)`` habit).

``render_box`` draws one box with its label and, when selected, its eight handles.
``render_boxes_batched`` draws many boxes in a handful of QPainter calls (one per colour
and style); the canvas uses it for the bulk of the boxes and ``render_box`` for the few
that are selected, hovered or being edited.

Painting happens in image (scene) coordinates with cosmetic pens; labels and handles are
drawn at a constant size on screen whatever the zoom.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen, QTransform

from widgets.shapes import BoxShape, handle_points

#: Handle side on screen, in device pixels.
HANDLE_PX = 7.0
#: Labels are only drawn in bulk when the box is at least this big on screen.
LABEL_MIN_BOX_PX = (28.0, 14.0)
#: At most this many labels in one bulk paint; beyond it the screen is unreadable anyway.
LABEL_BUDGET = 400


@dataclass(frozen=True)
class RenderContext:
    scale: float = 1.0  # device pixels per image pixel
    selected: bool = False
    hovered: bool = False
    labels_visible: bool = True
    image_width: float | None = None  # keeps labels inside the image when known
    image_height: float | None = None


def style_key(shape: BoxShape) -> tuple[str, str]:
    return (shape.color, shape.source)


def box_pen(color: str, source: str, emphasised: bool = False) -> QPen:
    # Opaque colours only: alpha-blended or wide dashed outlines are 3-6x slower to raster.
    c = QColor(color)
    width = 2.0
    if source == "interpolated":
        c = c.lighter(150)
        width = 1.0
    elif source == "ghost":        # a track's last box on a later frame: faint, dotted
        c = c.lighter(170)
        width = 1.0
    elif source == "predicted":
        width = 1.5
    elif source == "proposal":     # the model's suggestion, not a label yet: dashed
        width = 2.0
    if emphasised:
        width += 1.0
    pen = QPen(c, width)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.MiterJoin)
    if source == "interpolated":
        pen.setStyle(Qt.DashLine)
    elif source == "ghost":
        pen.setStyle(Qt.DotLine)
    elif source == "proposal":
        pen.setDashPattern([5.0, 3.0])
    return pen


class _LabelCache:
    """Pre-rendered label pills keyed by (text, colour): drawing one is a single blit."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._images: OrderedDict[tuple[str, str, str], QImage] = OrderedDict()
        self.font = QFont()
        self.font.setPixelSize(11)
        self.metrics = QFontMetrics(self.font)

    @property
    def height(self) -> int:
        return self.metrics.height() + 2

    def get(self, text: str, color: str, source: str) -> QImage:
        key = (text, color, source)
        img = self._images.get(key)
        if img is not None:
            self._images.move_to_end(key)
            return img
        w = self.metrics.horizontalAdvance(text) + 8
        h = self.height
        img = QImage(w, h, QImage.Format_RGB32)  # opaque: blits without blending
        bg = QColor(color)
        if source == "interpolated":
            bg = bg.lighter(140)
        elif source == "ghost":
            bg = bg.lighter(175)
        elif source == "proposal":
            bg = bg.lighter(125)
        img.fill(bg)
        p = QPainter(img)
        p.setFont(self.font)
        # Dark text on light colours, white text on dark ones.
        luma = 0.299 * bg.redF() + 0.587 * bg.greenF() + 0.114 * bg.blueF()
        p.setPen(QColor("#111111") if luma > 0.6 else QColor("#ffffff"))
        p.drawText(QRectF(0, 0, w, h), Qt.AlignCenter, text)
        p.end()
        self._images[key] = img
        if len(self._images) > self.capacity:
            self._images.popitem(last=False)
        return img


_labels: _LabelCache | None = None


def label_cache() -> _LabelCache:
    global _labels
    if _labels is None:  # fonts need a QGuiApplication, so build on first use
        _labels = _LabelCache()
    return _labels


def _label_at(t: QTransform, shape: BoxShape, corner: QPointF, labels: "_LabelCache",
              top: float, right: float | None) -> tuple[QPointF, QImage]:
    """Device position and image of the label of ``shape`` under world transform ``t``."""
    img = labels.get(shape.caption, shape.color, shape.source)
    top_left = t.map(corner)
    x, y = top_left.x(), top_left.y() - img.height()
    if y < top:
        y = top_left.y()  # no room above the image top: put the label inside the box
    if right is not None:
        x = min(x, right - img.width())
    return QPointF(round(x), round(y)), img


def label_rects(t: QTransform, shapes, width: float | None, height: float | None) -> list[QRectF]:
    """Where the labels of ``shapes`` are drawn on screen (device pixels) under ``t``,
    for an image ``width`` x ``height``: others can keep clear of them."""
    labels = label_cache()
    top = t.map(QPointF(0, 0)).y() if height is not None else float("-inf")
    right = t.map(QPointF(width, 0)).x() if width is not None else None
    out = []
    for s in shapes:
        pos, img = _label_at(t, s, QPointF(min(s.x1, s.x2), min(s.y1, s.y2)), labels, top, right)
        out.append(QRectF(pos.x(), pos.y(), img.width(), img.height()))
    return out


def _draw_labels(painter: QPainter, shapes, ctx: RenderContext, corners=None) -> None:
    """Labels of ``shapes``; ``corners`` are their top-left points when already known."""
    if corners is None:
        corners = [QPointF(min(s.x1, s.x2), min(s.y1, s.y2)) for s in shapes]
    labels = label_cache()
    t = painter.worldTransform()
    top = t.map(QPointF(0, 0)).y() if ctx.image_height is not None else float("-inf")
    right = t.map(QPointF(ctx.image_width, 0)).x() if ctx.image_width is not None else None
    painter.save()
    painter.resetTransform()
    for shape, corner in zip(shapes, corners):
        painter.drawImage(*_label_at(t, shape, corner, labels, top, right))
    painter.restore()


def _draw_label(painter: QPainter, shape: BoxShape, ctx: RenderContext) -> None:
    _draw_labels(painter, (shape,), ctx)


def render_box(painter: QPainter, shape: BoxShape, ctx: RenderContext) -> None:
    """Draw one box (outline, fill when selected or hovered, label, handles when selected)."""
    rect = QRectF(QPointF(shape.x1, shape.y1), QPointF(shape.x2, shape.y2)).normalized()
    emphasised = ctx.selected or ctx.hovered
    painter.setPen(box_pen(shape.color, shape.source, emphasised))
    if emphasised:
        fill = QColor(shape.color)
        fill.setAlpha(60 if ctx.selected else 30)
        painter.setBrush(fill)
    else:
        painter.setBrush(Qt.NoBrush)
    painter.drawRect(rect)
    if ctx.labels_visible:
        _draw_label(painter, shape, ctx)
    if ctx.selected:
        side = HANDLE_PX / max(ctx.scale, 1e-6)
        pen = QPen(QColor(shape.color), 1.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(QColor("#ffffff"))
        for hx, hy in handle_points(shape.rect).values():
            painter.drawRect(QRectF(hx - side / 2, hy - side / 2, side, side))


def render_boxes_batched(painter: QPainter, shapes: list[BoxShape], rects: list[QRectF],
                         ctx: RenderContext) -> None:
    """Draw many plain (unselected) boxes: one ``drawRects`` per colour/style group.

    ``rects`` are the precomputed normalised QRectF of ``shapes`` (same order). Labels are
    drawn only for boxes big enough on screen to hold them, at most ``LABEL_BUDGET``.
    """
    groups: dict[tuple[str, str], list[QRectF]] = {}
    for shape, rect in zip(shapes, rects):
        groups.setdefault(style_key(shape), []).append(rect)
    painter.setBrush(Qt.NoBrush)
    for (color, source), group in groups.items():
        painter.setPen(box_pen(color, source))
        painter.drawRects(group)
    if not ctx.labels_visible:
        return
    min_w, min_h = LABEL_MIN_BOX_PX[0] / ctx.scale, LABEL_MIN_BOX_PX[1] / ctx.scale
    room = [(shape, rect.topLeft()) for shape, rect in zip(shapes, rects)
            if rect.width() >= min_w and rect.height() >= min_h][:LABEL_BUDGET]
    _draw_labels(painter, [r[0] for r in room], ctx, [r[1] for r in room])
