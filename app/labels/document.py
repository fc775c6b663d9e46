"""The open project as the window sees it: intents in, undoable store writes out.

Views call the intent methods; each one pushes a command on the ``QUndoStack``
(commands write to the store at once). The document then emits what changed and
the views redraw from the store. The canvas never owns the document or the stack.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from app.labels import commands as cmd
from app.store.project import Project


class Document(QObject):
    boxes_changed = Signal(object)    # set of media ids
    classes_changed = Signal()
    tags_changed = Signal(object)     # set of media ids whose tags changed (empty: tag list)

    def __init__(self, project: Project, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.undo_stack = QUndoStack(self)
        self.author = None

    # -- notifications used by commands -------------------------------------------------
    def notify_boxes(self, media_ids: set[int]) -> None:
        self.boxes_changed.emit(set(media_ids))

    def notify_classes(self) -> None:
        self.classes_changed.emit()

    def notify_tags(self, media_ids: set[int]) -> None:
        self.tags_changed.emit(set(media_ids))

    # -- boxes -----------------------------------------------------------------------
    def add_box(self, media_id: int, class_id: int, rect, frame: int = 0,
                track_id: int | None = None) -> int:
        x1, y1, x2, y2 = rect
        command = cmd.AddBoxes(self, [dict(media_id=media_id, class_id=class_id, frame=frame,
                                           x1=x1, y1=y1, x2=x2, y2=y2, track_id=track_id,
                                           author=self.author)])
        self.undo_stack.push(command)
        return command.ids[0]

    def paste_boxes(self, media_id: int, frame: int, boxes: list[dict],
                    text: str = "Paste box") -> list[int]:
        rows = [dict(b, media_id=media_id, frame=frame, source="manual", score=None,
                     run_id=None, author=self.author) for b in boxes]
        for row in rows:
            row.pop("id", None)
        if not rows:
            return []
        command = cmd.AddBoxes(self, rows, text)
        self.undo_stack.push(command)
        return command.ids

    def add_boxes(self, rows: list[dict], text: str = "Add box") -> list[int]:
        """Add labelled boxes (dicts as ``project.boxes.add`` takes) in one undo step."""
        rows = [dict(r, author=r.get("author", self.author)) for r in rows]
        if not rows:
            return []
        command = cmd.AddBoxes(self, rows, text)
        self.undo_stack.push(command)
        return command.ids

    def move_boxes(self, edits: list[tuple]) -> None:
        """``edits``: (id, x1, y1, x2, y2) per box, as the canvas reports a gesture."""
        changes = {}
        for box_id, x1, y1, x2, y2 in edits:
            x1, x2 = sorted((x1, x2))
            y1, y2 = sorted((y1, y2))
            changes[box_id] = dict(x1=x1, y1=y1, x2=x2, y2=y2)
        if changes:
            text = "Move box" if len(changes) == 1 else f"Move boxes ×{len(changes)}"
            self.undo_stack.push(cmd.EditBoxes(self, changes, text))

    def set_boxes_class(self, box_ids: list[int], class_id: int) -> None:
        if box_ids:
            self.undo_stack.push(cmd.EditBoxes(self, {i: {"class_id": class_id} for i in box_ids},
                                               "Change class"))

    def delete_boxes(self, box_ids: list[int]) -> None:
        if box_ids:
            self.undo_stack.push(cmd.DeleteBoxes(self, list(box_ids)))

    # -- classes ---------------------------------------------------------------------
    def add_class(self, name: str, color: str | None = None) -> int:
        if self.project.classes.by_name(name.strip()):
            raise ValueError(f"a class named {name.strip()!r} exists already")
        command = cmd.AddClass(self, name.strip(), color)
        self.undo_stack.push(command)
        return command.class_id

    def rename_class(self, class_id: int, name: str) -> None:
        existing = self.project.classes.by_name(name.strip())
        if existing and existing.id != class_id:
            raise ValueError(f"a class named {name.strip()!r} exists already")
        self.undo_stack.push(cmd.EditClass(self, class_id, "Rename class", name=name.strip()))

    def recolor_class(self, class_id: int, color: str) -> None:
        self.undo_stack.push(cmd.EditClass(self, class_id, "Recolour class", color=color))

    def reorder_classes(self, ids: list[int]) -> None:
        self.undo_stack.push(cmd.ReorderClasses(self, list(ids)))

    def delete_class(self, class_id: int) -> None:
        self.undo_stack.push(cmd.DeleteClass(self, class_id))

    # -- tags ------------------------------------------------------------------------
    def set_tag(self, media_ids: list[int], tag_id: int, on: bool) -> None:
        name = next(t.name for t in self.project.tags.all() if t.id == tag_id)
        text = f"{'Tag' if on else 'Untag'} {name}"
        self.undo_stack.push(cmd.SetTag(self, list(media_ids), tag_id, on, text))

    def add_tag(self, name: str) -> int:
        if any(t.name == name.strip() for t in self.project.tags.all()):
            raise ValueError(f"a tag named {name.strip()!r} exists already")
        command = cmd.AddTag(self, name.strip())
        self.undo_stack.push(command)
        return command.tag_id

    def rename_tag(self, tag_id: int, name: str) -> None:
        self.undo_stack.push(cmd.RenameTag(self, tag_id, name.strip()))

    def delete_tag(self, tag_id: int) -> None:
        self.undo_stack.push(cmd.DeleteTag(self, tag_id))
