"""The two scene items of the canvas: the image and the box layer.

Both keep a raster cache at the current zoom so that a pan is one blit. While the zoom
changes the old cache is drawn stretched (cheap) and a sharp one is rebuilt once the zoom
has been still for a moment (the way map viewers stay fluid). When zoomed in far enough
that a cache of the whole image would be huge, they paint directly, culled to the exposed
area: few boxes are visible then.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem

from widgets.canvas.index import BoxIndex
from widgets.canvas.render import RenderContext, render_box, render_boxes_batched
from widgets.shapes import BoxShape

#: Largest cache, in device pixels (64 MB of ARGB at most; beyond it few boxes are visible).
CACHE_MAX_PIXELS = 4096 * 4096
#: Below this many boxes the layer paints directly: cheaper than keeping a cache.
DIRECT_MAX_BOXES = 400
#: Milliseconds the zoom must stay still before the sharp cache is rebuilt.
SETTLE_MS = 120


class _ScaledCache:
    """A raster of an item's whole rect at one device scale."""

    def __init__(self) -> None:
        self.image: QImage | None = None
        self.scale = 0.0
        self.version = -1

    def clear(self) -> None:
        self.image = None
        self.version = -1

    def fits(self, width: float, height: float, scale: float) -> bool:
        return width * height * scale * scale <= CACHE_MAX_PIXELS

    def build(self, width: float, height: float, scale: float, version: int, paint) -> None:
        w, h = max(1, int(round(width * scale))), max(1, int(round(height * scale)))
        img = QImage(w, h, QImage.Format_ARGB32_Premultiplied)
        img.fill(Qt.transparent)
        p = QPainter(img)
        p.scale(w / width, h / height)
        paint(p, scale)
        p.end()
        self.image, self.scale, self.version = img, scale, version

    def blit(self, painter: QPainter, width: float, height: float, scale: float) -> None:
        """Draw the cache: 1:1 at its own scale, stretched (fast) at any other."""
        t = painter.worldTransform()
        if abs(scale - self.scale) < 1e-9 and t.isAffine() and t.m12() == 0 and t.m21() == 0:
            origin = t.map(QPointF(0, 0))
            painter.save()
            painter.resetTransform()
            painter.drawImage(QPointF(round(origin.x()), round(origin.y())), self.image)
            painter.restore()
        else:
            painter.drawImage(QRectF(0, 0, width, height), self.image)


def _scale_of(painter: QPainter) -> float:
    t = painter.worldTransform()
    return (t.m11() ** 2 + t.m12() ** 2) ** 0.5


class _CachedLayer(QGraphicsObject):
    """Common part: the item rect is the image rect; a settle timer rebuilds the cache."""

    def __init__(self) -> None:
        super().__init__()
        self._w = 0.0
        self._h = 0.0
        self._version = 0
        self._cache = _ScaledCache()
        self._pending_scale = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
        self._timer.timeout.connect(self._rebuild_after_settle)
        self.setFlag(QGraphicsItem.ItemUsesExtendedStyleOption, True)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._w, self._h)

    def set_size(self, width: float, height: float) -> None:
        if (width, height) != (self._w, self._h):
            self.prepareGeometryChange()
            self._w, self._h = float(width), float(height)
            self.invalidate()

    def invalidate(self) -> None:
        self._version += 1
        self._cache.clear()
        self.update()

    def _paint_content(self, painter: QPainter, scale: float) -> None:
        raise NotImplementedError

    def _use_cache(self, scale: float) -> bool:
        return self._cache.fits(self._w, self._h, scale)

    def _paint_cached(self, painter: QPainter, scale: float) -> None:
        c = self._cache
        if c.version != self._version or c.image is None:
            c.build(self._w, self._h, scale, self._version, self._paint_content)
        elif abs(c.scale - scale) > 1e-9:
            self._pending_scale = scale
            self._timer.start()
        c.blit(painter, self._w, self._h, scale)

    def _rebuild_after_settle(self) -> None:
        if self._pending_scale and self._cache.version == self._version:
            self._cache.build(self._w, self._h, self._pending_scale, self._version, self._paint_content)
            self.update()


class ImageLayer(_CachedLayer):
    def __init__(self) -> None:
        super().__init__()
        self._image: QImage | None = None
        self.setZValue(0)

    def set_image(self, image: QImage | None) -> None:
        self._image = None if image is None or image.isNull() else image
        if self._image is None:
            self.set_size(0, 0)
        else:
            self.set_size(self._image.width(), self._image.height())
        self.invalidate()  # same size, new pixels (the next video frame)

    def image(self) -> QImage | None:
        return self._image

    def _paint_content(self, painter: QPainter, scale: float) -> None:
        painter.setRenderHint(QPainter.SmoothPixmapTransform, True)
        painter.drawImage(QRectF(0, 0, self._w, self._h), self._image)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        if self._image is None:
            return
        scale = _scale_of(painter)
        if scale < 1.0 and self._use_cache(scale):
            self._paint_cached(painter, scale)
        else:  # zoomed in: nearest-neighbour, so pixels stay crisp for precise labelling
            painter.setRenderHint(QPainter.SmoothPixmapTransform, False)
            r = option.exposedRect.intersected(self.boundingRect()).toAlignedRect()
            painter.drawImage(QRectF(r), self._image, QRectF(r))


class BoxLayer(_CachedLayer):
    """All boxes in one item: plain ones batched (cached), special ones drawn on top."""

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(1)
        self.index = BoxIndex()
        self._rects: list[QRectF] = []
        self.labels_visible = True
        self.selected: set[int] = set()
        self.hovered: int | None = None
        self._overlay: dict[int, BoxShape] = {}  # provisional geometry while a gesture runs

    # -- data ---------------------------------------------------------------------------
    def set_shapes(self, shapes: list[BoxShape]) -> None:
        self.index = BoxIndex(shapes)
        self._rects = [QRectF(QPointF(x1, y1), QPointF(x2, y2)) for x1, y1, x2, y2 in
                       zip(self.index.x1.tolist(), self.index.y1.tolist(),
                           self.index.x2.tolist(), self.index.y2.tolist())]
        self._overlay = {}
        self.invalidate()

    def set_overlay(self, shapes: dict[int, BoxShape]) -> None:
        """Show ``shapes`` (by id) in place of their stored geometry, drawn on top."""
        if set(shapes) != set(self._overlay):
            self._overlay = dict(shapes)
            self.invalidate()  # the plain layer must leave these boxes out
        else:
            self._overlay = dict(shapes)
            self.update()

    def overlay(self) -> dict[int, BoxShape]:
        return dict(self._overlay)

    def set_labels_visible(self, on: bool) -> None:
        if on != self.labels_visible:
            self.labels_visible = on
            self.invalidate()

    def shape_of(self, box_id: int) -> BoxShape | None:
        return self._overlay.get(box_id) or self.index.get(box_id)

    # -- painting -----------------------------------------------------------------------
    def _ctx(self, scale: float, **kw) -> RenderContext:
        return RenderContext(scale=scale, labels_visible=self.labels_visible,
                             image_width=self._w or None, image_height=self._h or None, **kw)

    def _plain_positions(self, left, top, right, bottom, margin=0.0):
        pos = self.index.intersecting(left, top, right, bottom, margin)
        if self._overlay:
            skip = {self.index.position[i] for i in self._overlay if i in self.index.position}
            pos = [p for p in pos.tolist() if p not in skip]
        else:
            pos = pos.tolist()
        return pos

    def _paint_plain(self, painter: QPainter, scale: float, positions: list[int]) -> None:
        shapes, rects = self.index.shapes, self._rects
        render_boxes_batched(painter, [shapes[p] for p in positions],
                             [rects[p] for p in positions], self._ctx(scale))

    def _paint_content(self, painter: QPainter, scale: float) -> None:
        self._paint_plain(painter, scale, self._plain_positions(0, 0, self._w, self._h, 1e9))

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        scale = _scale_of(painter)
        if len(self.index) > DIRECT_MAX_BOXES and self._w and self._use_cache(scale):
            self._paint_cached(painter, scale)
        else:
            r = option.exposedRect
            margin = 40.0 / max(scale, 1e-6)  # labels stick out of their box
            self._paint_plain(painter, scale, self._plain_positions(
                r.left(), r.top(), r.right(), r.bottom(), margin))
        for box_id, ctx in self._special(scale):
            shape = self.shape_of(box_id)
            if shape is not None:
                render_box(painter, shape, ctx)

    def _special(self, scale: float):
        ids = [i for i in self._overlay if i not in self.selected and i != self.hovered]
        if self.hovered is not None and self.hovered not in self.selected:
            ids.append(self.hovered)
        out = [(i, self._ctx(scale, hovered=i == self.hovered)) for i in ids]
        out += [(i, self._ctx(scale, selected=True)) for i in sorted(self.selected)]
        return out
