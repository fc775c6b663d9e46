"""Wires the canvas to the document for the media item on screen.

The canvas emits intents (draw, edit, delete, copy, paste); this controller turns
them into document edits for the current media and frame, and redraws the canvas
from the store whenever the document says that media changed. It also marks the
picture's labelling status ("no objects", "needs review").

On a video a box drawn continues a track (``VideoEdits.track_for_drawing``): the
selected one, else the track of the class drawn last while it is active; Shift+W
draws a new track. A track that ended before this frame shows its last box faintly
(a "ghost", id ``-track``): moving it adds a keyframe there, deleting it or ``O``
marks the track outside from this frame.
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


STATUS_TEXT = {"unlabelled": "not labelled", "labelled": "labelled", "empty": "no objects",
               "review": "needs review"}


class AnnotationController(QObject):
    media_loaded = Signal(int)           # media id
    boxes_shown = Signal(int)            # how many boxes are on screen
    status_shown = Signal(str)           # the picture's labelling status, as the user reads it
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
        # The model's proposals shown among the boxes (app.next.prelabels): it draws
        # them (``shapes``) and takes the canvas's edits, deletes and class changes of
        # theirs (``take_edits``/``take_deletes``/``take_class`` return the rest).
        self.proposals = None
        self.new_track_next = False      # Shift+W: the next box drawn starts a new track
        self.new_track_unselected = False  # option: drawing with nothing selected starts one
        canvas.draw_mode_changed.connect(self._draw_mode_changed)
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
            "draw_new_track": make_action(parent, "Draw box as a &new track (video)",
                                          self.draw_new_track, "Shift+W"),
            "new_track_option": make_action(
                parent, "Drawing with nothing selected starts a new track",
                lambda on: setattr(self, "new_track_unselected", bool(on)), checkable=True),
            "no_objects": make_action(parent, "Mark: &no objects here", self.toggle_no_objects, "E"),
            "needs_review": make_action(parent, "Mark: needs re&view", self.toggle_review, "R"),
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

    def draw_new_track(self) -> None:
        self.canvas.set_draw_mode(True)
        self.new_track_next = self.canvas.draw_mode()

    def _draw_mode_changed(self, on: bool) -> None:
        if on:
            self.new_track_next = False    # Shift+W sets it again right after

    # -- labelling status ----------------------------------------------------------------
    def toggle_no_objects(self) -> None:
        """E: the picture shows no objects (a labelled negative), or not any more."""
        if self.media_id is None:
            return
        on = "empty" not in self.project.status.marks(self.media_id, self.frame)
        try:
            self.doc.set_no_objects(self.media_id, self.frame, on)
        except ValueError as exc:
            self.message.emit(str(exc))
            return
        self.message.emit("marked: no objects (a negative for training)" if on else
                          "no longer marked: not labelled")

    def toggle_review(self) -> None:
        """R: the picture's labels need another look (left out of training meanwhile)."""
        if self.media_id is None:
            return
        on = "review" not in self.project.status.marks(self.media_id, self.frame)
        self.doc.set_needs_review(self.media_id, self.frame, on)
        self.message.emit("marked: needs review (left out of training and review)" if on
                          else "review mark taken off")

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
        for b in self.project.boxes.labels(self.media_id, self.frame):
            c = classes[b.class_id]   # (predictions are drawn by the review overlay)
            shapes.append(BoxShape(b.id, b.x1, b.y1, b.x2, b.y2, b.class_id, c.name, c.color,
                                   b.source, b.score, b.track_id))
        n = len(shapes)
        if self.frame_edits is not None:
            for b in self.frame_edits.ghosts(self.media_id, self.frame):
                c = classes[b.class_id]
                shapes.append(BoxShape(-b.track_id, b.x1, b.y1, b.x2, b.y2, b.class_id, c.name,
                                       c.color, "ghost", None, b.track_id))
        if self.proposals is not None:
            shapes += self.proposals.shapes(self.media_id, self.frame, classes)
        self.canvas.set_boxes(shapes)
        self.boxes_shown.emit(n)
        self.status_shown.emit(STATUS_TEXT[self.project.status.of(self.media_id, self.frame)])

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
        if selected and self.proposals is not None:
            selected = self.proposals.take_class(selected, cls.id)
        if selected and self.frame_edits is not None:
            # a track changes class as a whole (a ghost stands for its track's last box)
            ends = {b.track_id: b.id for b in self.frame_edits.ghosts(self.media_id, self.frame)}
            ids = [ends.get(-i) if i < 0 else i for i in selected]
            self.frame_edits.set_class([i for i in ids if i is not None], cls.id)
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
            box_id = self._draw_on_frame(class_id, (x1, y1, x2, y2))
        else:
            box_id = self.doc.add_box(self.media_id, class_id, (x1, y1, x2, y2), frame=self.frame)
        self.canvas.select([box_id])

    def _draw_on_frame(self, class_id: int, rect) -> int:
        """A box drawn on a video frame: a keyframe of the track it continues, or a new track."""
        edits, media_id, frame = self.frame_edits, self.media_id, self.frame
        selected = [self._track_of(i) for i in self.canvas.selected_ids()]
        track = edits.track_for_drawing(media_id, frame, class_id, selected, self.new_track_next,
                                        self.new_track_unselected)
        self.new_track_next = False
        keys = self.project.tracks.keyframes(media_id, track) if track is not None else []
        if keys:
            class_id = keys[0].class_id          # a track keeps its class
        box_id, track = edits.add_box(media_id, frame, class_id, rect, track_id=track)
        name = self.project.classes.get(class_id).name
        if keys:
            self.message.emit(_continued(name, track, frame, keys))
        else:
            self.message.emit(f"new track: {name} #{track} (drawing on another frame continues "
                              "it; Shift+W draws a new track)")
        return box_id

    def _track_of(self, box_id: int) -> int | None:
        if box_id < 0:
            return -box_id                 # a ghost stands for its track
        return self.project.boxes.get(box_id).track_id

    def _on_edited(self, edits: list) -> None:
        if self.proposals is not None:
            edits = self.proposals.take_edits(edits)
            if not edits:
                return
        if self.frame_edits is None:
            self.doc.move_boxes(edits)
            return
        real = [e for e in edits if e[0] >= 0]
        for ghost, x1, y1, x2, y2 in (e for e in edits if e[0] < 0):
            # moving a track's ghost puts the object here: a keyframe on this frame
            class_id = self.project.tracks.keyframes(self.media_id, -ghost)[0].class_id
            box_id, _ = self.frame_edits.add_box(self.media_id, self.frame, class_id,
                                                 (x1, y1, x2, y2), track_id=-ghost)
            self.canvas.select([box_id])
        if real:
            self.frame_edits.edit_boxes(self.media_id, self.frame, real)

    def _on_delete(self, ids: list) -> None:
        if self.proposals is not None:
            ids = self.proposals.take_deletes(ids)
            if not ids:
                return
        if self.frame_edits is None:
            self.doc.delete_boxes(list(ids))
            return
        for ghost in (i for i in ids if i < 0):   # the object is gone from here on
            self.frame_edits.mark_outside(self.media_id, -ghost, self.frame)
        real = [i for i in ids if i >= 0]
        if real:
            self.frame_edits.delete_boxes(real)

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


def _continued(name: str, track: int, frame: int, keys) -> str:
    """What drawing on a frame did to the track it continued."""
    before = [b.frame for b in keys if b.frame < frame]
    after = [b.frame for b in keys if b.frame > frame]
    spans = [f"{max(before) + 1}–{frame - 1}"] if before and frame - max(before) > 1 else []
    spans += [f"{frame + 1}–{min(after) - 1}"] if after and min(after) - frame > 1 else []
    interp = f"; frames {' and '.join(spans)} interpolated" if spans else ""
    return (f"keyframe of {name} #{track} on frame {frame}{interp} "
            "(Shift+W draws a new track instead)")


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
