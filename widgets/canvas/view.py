"""BoxCanvas: the image with its boxes. Shows data, emits intents, owns no document.

After emitting an edit the canvas keeps showing the provisional geometry until the app
calls ``set_boxes`` again; its state is always updated *before* a signal is emitted, so a
slot that answers synchronously with ``set_boxes`` wins.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

from widgets.canvas import gestures as g
from widgets.canvas.layers import BoxLayer, ImageLayer
from widgets.canvas.render import HANDLE_PX, RenderContext, render_box
from widgets.canvas.zoompan import ZoomPanView
from widgets.shapes import BoxShape, hit_handle

_HANDLE_CURSORS = {"nw": Qt.SizeFDiagCursor, "se": Qt.SizeFDiagCursor, "ne": Qt.SizeBDiagCursor,
                   "sw": Qt.SizeBDiagCursor, "n": Qt.SizeVerCursor, "s": Qt.SizeVerCursor,
                   "e": Qt.SizeHorCursor, "w": Qt.SizeHorCursor}
_ADD = Qt.ControlModifier | Qt.ShiftModifier


class BoxCanvas(ZoomPanView):
    box_drawn = Signal(float, float, float, float)
    boxes_edited = Signal(list)  # [(id, x1, y1, x2, y2)], one emission per gesture
    delete_requested = Signal(list)  # [id]
    selection_changed = Signal(list)  # [id]
    cursor_moved = Signal(float, float)  # image pixels
    copy_requested = Signal()
    paste_requested = Signal()
    draw_mode_changed = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self._scene.setItemIndexMethod(QGraphicsScene.NoIndex)  # two items; boxes index themselves
        self.setScene(self._scene)
        self._image = ImageLayer()
        self._boxes = BoxLayer()
        self._scene.addItem(self._image)
        self._scene.addItem(self._boxes)
        self._selection: list[int] = []
        self._draw_mode = False
        self.sticky_draw = False  # stay in draw mode after a box is drawn
        self.arrows_nudge = True  # off on video: arrows move in time there, Alt+arrows nudge
        self._gesture = None
        self._space = False
        self._cursor: QPointF | None = None  # last cursor position, image pixels
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.DontAdjustForAntialiasing)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self._update_scene_rect()

    # -- data in --------------------------------------------------------------------------
    def set_image(self, image: QImage | None) -> None:
        old = self.image_size()
        self._image.set_image(image)
        self._boxes.set_size(*self.image_size())
        self._update_scene_rect()
        if self.image_size() != old or self._fit:
            self.fit_to_window()

    def image_size(self) -> tuple[float, float]:
        r = self._image.boundingRect()
        return (r.width(), r.height())

    def set_boxes(self, boxes: list[BoxShape]) -> None:
        """Show ``boxes``; the selection is kept by id, a drag of boxes that still exist goes on."""
        gest = self._gesture
        self._boxes.set_shapes(list(boxes))
        known = self._boxes.index.position
        if isinstance(gest, g.MoveGesture) and all(b.id in known for b in gest.boxes):
            self._boxes.set_overlay(gest.preview())
        elif isinstance(gest, g.ResizeGesture) and gest.box.id in known:
            self._boxes.set_overlay(gest.preview())
        elif isinstance(gest, (g.MoveGesture, g.ResizeGesture)):
            self._gesture = None  # the boxes being edited went away
        self._set_selection([i for i in self._selection if i in known])
        if self._boxes.hovered not in known:
            self._boxes.hovered = None

    def boxes(self) -> list[BoxShape]:
        return list(self._boxes.index.shapes)

    def box(self, box_id: int) -> BoxShape | None:
        """The geometry shown now for ``box_id`` (provisional while a gesture runs)."""
        return self._boxes.shape_of(box_id)

    def selected_ids(self) -> list[int]:
        return list(self._selection)

    def select(self, ids) -> None:
        known = self._boxes.index.position
        self._set_selection([i for i in dict.fromkeys(ids) if i in known])

    def set_labels_visible(self, on: bool) -> None:
        self._boxes.set_labels_visible(bool(on))

    def labels_visible(self) -> bool:
        return self._boxes.labels_visible

    def set_boxes_visible(self, on: bool) -> None:
        """Hide or show the label boxes (the review overlay's "predictions only")."""
        self._boxes.setVisible(bool(on))

    def add_overlay(self, item) -> None:
        """Host an extra scene item (e.g. a prediction overlay) above the image."""
        self._scene.addItem(item)

    def set_draw_mode(self, on: bool) -> None:
        on = bool(on)
        if on and not self.image_size()[0]:
            on = False
        if on == self._draw_mode:
            return
        self._draw_mode = on
        if not on and isinstance(self._gesture, g.DrawGesture):
            self._gesture = None
        self._update_cursor(None)
        self.viewport().update()
        self.draw_mode_changed.emit(on)

    def draw_mode(self) -> bool:
        return self._draw_mode

    # -- selection ------------------------------------------------------------------------
    def _set_selection(self, ids: list[int]) -> None:
        if ids == self._selection:
            return
        self._selection = list(ids)
        self._boxes.selected = set(ids)
        self._boxes.update()
        self.selection_changed.emit(list(ids))

    def _selected_shapes(self) -> list[BoxShape]:
        return [s for s in (self._boxes.shape_of(i) for i in self._selection) if s is not None]

    def _commit_provisional(self, shapes: list[BoxShape]) -> None:
        """Show ``shapes`` as the current geometry (until the app calls set_boxes)."""
        by_id = {s.id: s for s in shapes}
        self._boxes.set_shapes([by_id.get(s.id, s) for s in self._boxes.index.shapes])

    # -- mouse ----------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        self.setFocus(Qt.MouseFocusReason)
        pos, button = event.position(), event.button()
        p = self._to_image(pos)
        w, h = self.image_size()
        if button == Qt.MiddleButton or (button == Qt.LeftButton and self._space):
            self._gesture = g.PanGesture((pos.x(), pos.y()), (self.horizontalScrollBar().value(),
                                                              self.verticalScrollBar().value()))
            self.viewport().setCursor(Qt.ClosedHandCursor)
        elif button != Qt.LeftButton or not w:
            super().mousePressEvent(event)
            return
        elif self._draw_mode:
            self._gesture = g.DrawGesture(w, h, (p.x(), p.y()))
        else:
            self._press_select(p, event.modifiers())
        event.accept()

    def _press_select(self, p: QPointF, mods) -> None:
        w, h = self.image_size()
        tol = HANDLE_PX / max(self.zoom(), 1e-6)
        for shape in reversed(self._selected_shapes()):
            handle = hit_handle(shape.rect, p.x(), p.y(), tol)
            if handle is not None and not mods & _ADD:
                self._gesture = g.ResizeGesture(w, h, shape, handle)
                return
        hit = self._boxes.index.at(p.x(), p.y())
        if hit is None:
            if not mods & _ADD:
                self._set_selection([])
            self._gesture = g.RubberBandGesture(w, h, (p.x(), p.y()), additive=bool(mods & _ADD),
                                                base=tuple(self._selection))
            return
        if mods & Qt.ControlModifier and hit.id in self._selection:
            self._set_selection([i for i in self._selection if i != hit.id])
            return
        if mods & _ADD:
            self._set_selection(self._selection + [hit.id] if hit.id not in self._selection
                                else self._selection)
        elif hit.id not in self._selection:
            self._set_selection([hit.id])
        self._gesture = g.MoveGesture(w, h, (p.x(), p.y()), self._selected_shapes())

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        p = self._to_image(pos)
        old_cursor, self._cursor = self._cursor, p
        self.cursor_moved.emit(p.x(), p.y())
        gest = self._gesture
        if isinstance(gest, g.PanGesture):
            h, v = gest.scroll_for(pos.x(), pos.y())
            self.horizontalScrollBar().setValue(h)
            self.verticalScrollBar().setValue(v)
            self._fit = False
        elif isinstance(gest, g.DrawGesture):  # a box being drawn, or a rubber band
            gest.move(p.x(), p.y())
            self.viewport().update()
        elif isinstance(gest, (g.MoveGesture, g.ResizeGesture)):
            gest.move(p.x(), p.y())
            self._boxes.set_overlay(gest.preview())
        else:
            self._hover(p)
            if self._draw_mode:
                self._update_guides(old_cursor, p)
        event.accept()

    def _hover(self, p: QPointF) -> None:
        hit = None if self._draw_mode else self._boxes.index.at(p.x(), p.y())
        hovered = None if hit is None else hit.id
        if hovered != self._boxes.hovered:
            self._boxes.hovered = hovered
            self._boxes.update()
        self._update_cursor(p)

    def _update_cursor(self, p: QPointF | None) -> None:
        vp = self.viewport()
        if self._space:
            vp.setCursor(Qt.OpenHandCursor)
            return
        if self._draw_mode:
            vp.setCursor(Qt.CrossCursor)
            return
        if p is not None:
            tol = HANDLE_PX / max(self.zoom(), 1e-6)
            for shape in self._selected_shapes():
                handle = hit_handle(shape.rect, p.x(), p.y(), tol)
                if handle:
                    vp.setCursor(_HANDLE_CURSORS[handle])
                    return
            if self._boxes.hovered is not None:
                vp.setCursor(Qt.SizeAllCursor)
                return
        vp.setCursor(Qt.ArrowCursor)

    def _update_guides(self, old: QPointF | None, new: QPointF) -> None:
        vp = self.viewport()
        for pt in (old, new):
            if pt is not None:
                v = self.mapFromScene(pt)
                vp.update(0, v.y() - 2, vp.width(), 5)
                vp.update(v.x() - 2, 0, 5, vp.height())

    def mouseReleaseEvent(self, event) -> None:
        gest, self._gesture = self._gesture, None
        self._boxes.set_overlay({})
        if isinstance(gest, g.PanGesture):
            self._update_cursor(self._to_image(event.position()))
        elif isinstance(gest, g.RubberBandGesture):
            self.viewport().update()
            x1, y1, x2, y2 = gest.rect()
            ix = self._boxes.index
            inside = [s.id for k, s in enumerate(ix.shapes) if x1 <= ix.x1[k] and ix.x2[k] <= x2
                      and y1 <= ix.y1[k] and ix.y2[k] <= y2] if gest.result() else []
            base = list(gest.base) if gest.additive else []
            self._set_selection(base + [i for i in inside if i not in base])
        elif isinstance(gest, g.DrawGesture):
            self.viewport().update()
            rect = gest.result()
            if rect is not None:
                if not self.sticky_draw:
                    self.set_draw_mode(False)
                self.box_drawn.emit(*rect)
        elif isinstance(gest, (g.MoveGesture, g.ResizeGesture)):
            edited = gest.result()
            if edited:
                self._commit_provisional(edited)
                self.boxes_edited.emit(g.edit_tuples(edited))
        else:
            super().mouseReleaseEvent(event)
        event.accept()

    def leaveEvent(self, event) -> None:
        if self._boxes.hovered is not None:
            self._boxes.hovered = None
            self._boxes.update()
        self._cursor = None
        if self._draw_mode:
            self.viewport().update()
        super().leaveEvent(event)

    # -- keys -----------------------------------------------------------------------------
    def event(self, event) -> bool:
        # While the canvas has focus, its editing keys beat window-wide shortcuts that use
        # the same keys (a menu's Delete or Ctrl+C): the canvas then emits its own intent.
        if event.type() == QEvent.ShortcutOverride and self._claims(event):
            event.accept()
            return True
        return super().event(event)

    def _claims(self, event) -> bool:
        key = event.key()
        if key in (Qt.Key_Left, Qt.Key_Right, Qt.Key_Up, Qt.Key_Down):
            return bool(self._selection) and self._nudges(event.modifiers())
        if key in (Qt.Key_Delete, Qt.Key_Backspace):
            return bool(self._selection) and not event.modifiers() & Qt.ControlModifier
        if key == Qt.Key_Escape:
            return self._gesture is not None or self._draw_mode or bool(self._selection)
        return event.matches(QKeySequence.Copy) or event.matches(QKeySequence.Paste)

    def keyPressEvent(self, event) -> None:
        if self._handle_key(event):
            event.accept()
        else:
            super().keyPressEvent(event)

    def _handle_key(self, event) -> bool:
        key, mods = event.key(), event.modifiers()
        if event.matches(QKeySequence.Copy):
            self.copy_requested.emit()
        elif event.matches(QKeySequence.Paste):
            self.paste_requested.emit()
        elif event.matches(QKeySequence.SelectAll):
            self._set_selection(list(self._boxes.index.position))
        elif mods & Qt.ControlModifier and key in (Qt.Key_Equal, Qt.Key_Plus):
            self.zoom_in()
        elif mods & Qt.ControlModifier and key in (Qt.Key_Minus, Qt.Key_Underscore):
            self.zoom_out()
        elif mods & Qt.ControlModifier and key == Qt.Key_0:
            self.fit_to_window()
        elif mods & Qt.ControlModifier:
            return False
        elif key == Qt.Key_W:
            self.set_draw_mode(True)
        elif key == Qt.Key_Escape:
            self._escape()
        elif key in (Qt.Key_Delete, Qt.Key_Backspace):
            if not self._selection:
                return False
            self.delete_requested.emit(list(self._selection))
        elif key in (Qt.Key_Left, Qt.Key_Right, Qt.Key_Up, Qt.Key_Down):
            return self._nudges(mods) and self._nudge(key, 10.0 if mods & Qt.ShiftModifier else 1.0)
        elif key == Qt.Key_Space and not event.isAutoRepeat():
            self._space = True
            self._update_cursor(None)
        else:
            return False
        return True

    def _nudges(self, mods) -> bool:  # Alt: a modifier that does nothing else
        return not mods & Qt.ControlModifier and (self.arrows_nudge or bool(mods & Qt.AltModifier))

    def _nudge(self, key, step: float) -> bool:
        if not self._selection or self._gesture is not None:
            return False
        dx = {Qt.Key_Left: -step, Qt.Key_Right: step}.get(key, 0.0)
        dy = {Qt.Key_Up: -step, Qt.Key_Down: step}.get(key, 0.0)
        moved = g.nudge(self._selected_shapes(), dx, dy, *self.image_size())
        if moved:
            self._commit_provisional(moved)
            self.boxes_edited.emit(g.edit_tuples(moved))
        return True

    def _escape(self) -> None:
        if self._gesture is not None:
            self._gesture = None
            self._boxes.set_overlay({})
            self.viewport().update()
        elif self._draw_mode:
            self.set_draw_mode(False)
        else:
            self._set_selection([])

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._update_cursor(self._cursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    # -- overlays -------------------------------------------------------------------------
    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        w, h = self.image_size()
        if not w:
            return
        if isinstance(self._gesture, g.RubberBandGesture):
            pen = QPen(QColor("#6aa6ff"), 1, Qt.DashLine)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(QColor(106, 166, 255, 40))
            x1, y1, x2, y2 = self._gesture.rect()
            painter.drawRect(QRectF(x1, y1, x2 - x1, y2 - y1))
        elif isinstance(self._gesture, g.DrawGesture):
            x1, y1, x2, y2 = self._gesture.rect()
            ctx = RenderContext(scale=self.zoom(), selected=False, labels_visible=False)
            render_box(painter, BoxShape(-1, x1, y1, x2, y2, -1, "", "#ffd400"), ctx)
        if self._draw_mode and self._cursor is not None:
            x, y = self._cursor.x(), self._cursor.y()
            if 0 <= x <= w and 0 <= y <= h:
                pen = QPen(QColor(255, 255, 255, 170), 1, Qt.DashLine)
                pen.setCosmetic(True)
                painter.setPen(pen)
                painter.drawLine(QPointF(0, y), QPointF(w, y))
                painter.drawLine(QPointF(x, 0), QPointF(x, h))
