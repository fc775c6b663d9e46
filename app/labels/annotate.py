"""Wires the canvas to the document for the media item on screen.

The canvas emits intents (draw, edit, delete, copy, paste); this controller turns
them into document edits for the current media and frame, and redraws the canvas
from the store whenever the document says that media changed.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QKeySequence, QShortcut

from app.labels.document import Document
from widgets.imaging import ImageLoadError, load_image
from widgets.actions import make_action
from widgets.canvas import BoxCanvas
from widgets.shapes import BoxShape

DEFAULT_CLASS = "object"


class AnnotationController(QObject):
    media_loaded = Signal(int)           # media id
    boxes_shown = Signal(int)            # how many boxes are on screen
    current_class_changed = Signal(int)
    message = Signal(str)                # for the status bar

    def __init__(self, doc: Document, canvas: BoxCanvas, parent: QObject | None = None):
        super().__init__(parent)
        self.doc = doc
        self.project = doc.project
        self.canvas = canvas
        self.media_id: int | None = None
        self.frame = 0
        self.current_class: int | None = None
        self.clipboard: list[dict] = []
        self.frame_edits = None          # set by the video controller for video media
        canvas.box_drawn.connect(self._on_drawn)
        canvas.boxes_edited.connect(self._on_edited)
        canvas.delete_requested.connect(self._on_delete)
        canvas.copy_requested.connect(self.copy_selection)
        canvas.paste_requested.connect(self.paste)
        doc.boxes_changed.connect(self._on_boxes_changed)
        doc.classes_changed.connect(self.refresh)
        classes = self.project.classes.all()
        self.current_class = classes[0].id if classes else None

    # -- actions -------------------------------------------------------------------------
    def actions(self, parent, previous_media: Callable[[], int | None]) -> dict:
        """Edit and View actions of the canvas; class hot keys 1–9 as shortcuts on
        ``parent`` (a hidden action has no shortcut, so they are not menu entries)."""
        canvas = self.canvas
        for n in range(1, 10):
            QShortcut(QKeySequence(str(n)), parent, activated=lambda n=n: self.apply_hotkey(str(n)))
        return {
            "draw": make_action(parent, "&Draw box", lambda: canvas.set_draw_mode(True), "W"),
            "copy": make_action(parent, "&Copy boxes", self.copy_selection, QKeySequence.Copy),
            "paste": make_action(parent, "&Paste boxes", self.paste, QKeySequence.Paste),
            "copy_previous": make_action(parent, "Copy boxes from p&revious image",
                                         lambda: self.copy_from_previous(previous_media()),
                                         "Ctrl+Shift+V"),
            "delete": make_action(parent, "De&lete selected boxes", self.delete_selection,
                                  [QKeySequence.Delete, "Backspace"]),
            "fit": make_action(parent, "&Fit to window", canvas.fit_to_window, "Ctrl+0"),
            "zoom_in": make_action(parent, "Zoom &in", canvas.zoom_in, ["Ctrl+=", "Ctrl++"]),
            "zoom_out": make_action(parent, "Zoom &out", canvas.zoom_out, "Ctrl+-"),
            "labels": make_action(parent, "Show box &labels", canvas.set_labels_visible, "L",
                                  checkable=True, checked=True),
        }

    def delete_selection(self) -> None:
        ids = self.canvas.selected_ids()
        if ids:
            self._on_delete(ids)

    # -- what is shown -----------------------------------------------------------------
    def show_image(self, media_id: int) -> None:
        media = self.project.media.get(media_id)
        self.media_id, self.frame = media_id, 0
        try:
            image = load_image(self.project.media.path(media))
        except ImageLoadError as exc:
            self.clear()
            self.message.emit(str(exc))
            raise
        self.canvas.set_image(image)
        self.canvas.fit_to_window()
        self.refresh()
        self.media_loaded.emit(media_id)

    def clear(self) -> None:
        """Nothing to show (a picture that cannot be read)."""
        self.canvas.set_image(None)
        self.canvas.set_boxes([])

    def show_frame(self, media_id: int, frame: int, image) -> None:
        """A decoded video frame arrived (from the video controller)."""
        new_media = media_id != self.media_id
        self.media_id, self.frame = media_id, frame
        self.canvas.set_image(image)
        if new_media:
            self.canvas.fit_to_window()
            self.media_loaded.emit(media_id)
        self.refresh()

    def refresh(self) -> None:
        if self.media_id is None:
            return
        classes = {c.id: c for c in self.project.classes.all()}
        if self.current_class not in classes:
            self.current_class = next(iter(classes), None)
        shapes = []
        for b in self.project.boxes.of(self.media_id, self.frame):
            if b.source == "predicted":
                continue  # predictions are drawn by the review overlay
            c = classes[b.class_id]
            shapes.append(BoxShape(b.id, b.x1, b.y1, b.x2, b.y2, b.class_id, c.name, c.color,
                                   b.source, b.score, b.track_id))
        self.canvas.set_boxes(shapes)
        self.boxes_shown.emit(len(shapes))

    def _on_boxes_changed(self, media_ids: set) -> None:
        if self.media_id in media_ids:
            self.refresh()

    # -- classes -------------------------------------------------------------------------
    def set_current_class(self, class_id: int) -> None:
        self.current_class = class_id
        self.current_class_changed.emit(class_id)

    def apply_hotkey(self, key: str) -> None:
        """1–9: set the class of the selection, or of the next box when none is selected."""
        cls = next((c for c in self.project.classes.all() if c.hotkey == key), None)
        if cls is None:
            return
        selected = self.canvas.selected_ids()
        if selected and self.frame_edits is not None:
            self.frame_edits.set_class(selected, cls.id)   # a track changes class as a whole
        elif selected:
            self.doc.set_boxes_class(selected, cls.id)
        self.set_current_class(cls.id)

    def _class_for_new_box(self) -> int:
        if self.current_class is None:
            self.set_current_class(self.doc.add_class(DEFAULT_CLASS))
        return self.current_class

    # -- intents from the canvas ------------------------------------------------------------
    def _on_drawn(self, x1: float, y1: float, x2: float, y2: float) -> None:
        if self.media_id is None:
            return
        class_id = self._class_for_new_box()
        if self.frame_edits is not None:
            box_id, _track = self.frame_edits.add_box(self.media_id, self.frame, class_id,
                                                      (x1, y1, x2, y2))
        else:
            box_id = self.doc.add_box(self.media_id, class_id, (x1, y1, x2, y2), frame=self.frame)
        self.canvas.select([box_id])

    def _on_edited(self, edits: list) -> None:
        if self.frame_edits is not None:
            self.frame_edits.edit_boxes(self.media_id, self.frame, edits)
        else:
            self.doc.move_boxes(edits)

    def _on_delete(self, ids: list) -> None:
        if self.frame_edits is not None:
            self.frame_edits.delete_boxes(list(ids))
        else:
            self.doc.delete_boxes(list(ids))

    # -- clipboard ---------------------------------------------------------------------------
    def copy_selection(self) -> None:
        ids = set(self.canvas.selected_ids())
        self.clipboard = [_plain(b) for b in self.project.boxes.of(self.media_id, self.frame)
                          if b.id in ids]
        if self.clipboard:
            self.message.emit(f"copied {len(self.clipboard)} box(es)")

    def paste(self) -> None:
        if self.media_id is None or not self.clipboard:
            return
        media = self.project.media.get(self.media_id)
        boxes = [_clamped(b, media.width, media.height) for b in self.clipboard]
        ids = self.doc.paste_boxes(self.media_id, self.frame, [b for b in boxes if b])
        self.canvas.select(ids)

    def copy_from_previous(self, previous_media_id: int | None) -> None:
        """Copy all boxes of the previous image in the browser onto this one."""
        if previous_media_id is None or self.media_id is None:
            return
        boxes = [_plain(b) for b in self.project.boxes.of(previous_media_id, 0) if b.source != "predicted"]
        media = self.project.media.get(self.media_id)
        boxes = [c for c in (_clamped(b, media.width, media.height) for b in boxes) if c]
        ids = self.doc.paste_boxes(self.media_id, self.frame, boxes, "Copy boxes from previous")
        self.message.emit(f"copied {len(ids)} box(es) from the previous image")


def _plain(box) -> dict:
    return dict(class_id=box.class_id, x1=box.x1, y1=box.y1, x2=box.x2, y2=box.y2,
                track_id=box.track_id)


def _clamped(box: dict, width: int, height: int) -> dict | None:
    """Fit a pasted box into an image of another size; drop it if nothing is left."""
    x1, x2 = max(0.0, box["x1"]), min(float(width), box["x2"])
    y1, y2 = max(0.0, box["y1"]), min(float(height), box["y2"])
    if x2 - x1 < 1 or y2 - y1 < 1:
        return None
    return dict(box, x1=x1, y1=y1, x2=x2, y2=y2)
