"""Undoable edits. Each command writes to the store at once (one transaction) and
tells the document which media changed; undo writes the inverse.

Box and class ids are kept across undo/redo (rows are re-inserted with their old
id), so commands further down the stack still point at the right rows.
"""

from __future__ import annotations

import dataclasses
import weakref

from PySide6.QtGui import QUndoCommand

from app.store.models import Box


def _row(box: Box) -> dict:
    return dataclasses.asdict(box)


class _DocCommand(QUndoCommand):
    def __init__(self, doc, text: str):
        super().__init__(text)
        self._doc = weakref.ref(doc)
        self.project = doc.project

    @property
    def doc(self):
        # Weak: a strong reference would close a cycle document → stack → command →
        # document, and a cycle holding Qt-owned commands crashes the collector.
        return self._doc()


class AddBoxes(_DocCommand):
    def __init__(self, doc, rows: list[dict], text: str = "Add box"):
        super().__init__(doc, text if len(rows) == 1 else f"{text} ×{len(rows)}")
        self.rows = rows
        self.ids: list[int] | None = None

    def redo(self):
        rows = self.rows if self.ids is None else [dict(r, id=i) for r, i in zip(self.rows, self.ids)]
        self.ids = self.project.boxes.add(rows)
        self.doc.notify_boxes({r["media_id"] for r in self.rows})

    def undo(self):
        self.project.boxes.delete(self.ids)
        self.doc.notify_boxes({r["media_id"] for r in self.rows})


class DeleteBoxes(_DocCommand):
    def __init__(self, doc, ids: list[int], text: str = "Delete box"):
        super().__init__(doc, text if len(ids) == 1 else f"{text} ×{len(ids)}")
        self.saved = [_row(doc.project.boxes.get(i)) for i in ids]

    def redo(self):
        self.project.boxes.delete([r["id"] for r in self.saved])
        self.doc.notify_boxes({r["media_id"] for r in self.saved})

    def undo(self):
        self.project.boxes.add(self.saved)
        self.doc.notify_boxes({r["media_id"] for r in self.saved})


class EditBoxes(_DocCommand):
    """Change fields of boxes (geometry, class, source…); ``changes`` maps id → fields."""

    def __init__(self, doc, changes: dict[int, dict], text: str):
        super().__init__(doc, text)
        self.after = changes
        self.before = {}
        for box_id, fields in changes.items():
            old = doc.project.boxes.get(box_id)
            self.before[box_id] = {k: getattr(old, k) for k in fields}
        self.media = {doc.project.boxes.get(i).media_id for i in changes}

    def _apply(self, values: dict[int, dict]):
        with self.project.transaction():
            for box_id, fields in values.items():
                self.project.boxes.update(box_id, **fields)
        self.doc.notify_boxes(self.media)

    def redo(self):
        self._apply(self.after)

    def undo(self):
        self._apply(self.before)


class AddClass(_DocCommand):
    def __init__(self, doc, name: str, color: str | None = None):
        super().__init__(doc, f"Add class {name}")
        self.name, self.color = name, color
        self.class_id: int | None = None
        self.position: int | None = None

    def redo(self):
        self.class_id = self.project.classes.add(self.name, self.color, class_id=self.class_id,
                                               position=self.position)
        cls = next(c for c in self.project.classes.all() if c.id == self.class_id)
        self.color, self.position = cls.color, cls.position
        self.doc.notify_classes()

    def undo(self):
        self.project.classes.delete(self.class_id)
        self.doc.notify_classes()


class EditClass(_DocCommand):
    def __init__(self, doc, class_id: int, text: str, **fields):
        super().__init__(doc, text)
        old = next(c for c in doc.project.classes.all() if c.id == class_id)
        self.class_id = class_id
        self.after = fields
        self.before = {k: getattr(old, k) or "" for k in fields}

    def redo(self):
        self.project.classes.update(self.class_id, **self.after)
        self.doc.notify_classes()

    def undo(self):
        self.project.classes.update(self.class_id, **self.before)
        self.doc.notify_classes()


class ReorderClasses(_DocCommand):
    def __init__(self, doc, ids: list[int]):
        super().__init__(doc, "Reorder classes")
        self.before = [c.id for c in doc.project.classes.all()]
        self.after = ids

    def redo(self):
        self.project.classes.reorder(self.after)
        self.doc.notify_classes()

    def undo(self):
        self.project.classes.reorder(self.before)
        self.doc.notify_classes()


class DeleteClass(_DocCommand):
    """Deleting a class deletes its boxes; undo brings both back with their ids."""

    def __init__(self, doc, class_id: int):
        self.cls = next(c for c in doc.project.classes.all() if c.id == class_id)
        super().__init__(doc, f"Delete class {self.cls.name}")
        self.boxes = [_row(doc.project.boxes.get(i)) for i in doc.project.boxes.ids_of_class(class_id)]

    def redo(self):
        self.project.classes.delete(self.cls.id)
        self.doc.notify_classes()
        self.doc.notify_boxes({b["media_id"] for b in self.boxes})

    def undo(self):
        c = self.cls
        with self.project.transaction():
            self.project.classes.add(c.name, c.color, c.hotkey, position=c.position, class_id=c.id)
            self.project.boxes.add(self.boxes)
        self.doc.notify_classes()
        self.doc.notify_boxes({b["media_id"] for b in self.boxes})


class SetTag(_DocCommand):
    def __init__(self, doc, media_ids: list[int], tag_id: int, on: bool, text: str):
        super().__init__(doc, text)
        self.tag_id, self.on = tag_id, on
        self.before = {m: tag_id in doc.project.tags.of(m) for m in media_ids}

    def _apply(self, state: dict[int, bool]):
        with self.project.transaction():
            for media_id, on in state.items():
                self.project.tags.set(media_id, self.tag_id, on)
        self.doc.notify_tags(set(state))

    def redo(self):
        self._apply({m: self.on for m in self.before})

    def undo(self):
        self._apply(self.before)


class AddTag(_DocCommand):
    def __init__(self, doc, name: str):
        super().__init__(doc, f"Add tag {name}")
        self.name = name
        self.tag_id: int | None = None

    def redo(self):
        self.tag_id = self.project.tags.add(self.name, tag_id=self.tag_id)
        self.doc.notify_tags(set())

    def undo(self):
        self.project.tags.delete(self.tag_id)
        self.doc.notify_tags(set())


class RenameTag(_DocCommand):
    def __init__(self, doc, tag_id: int, name: str):
        old = next(t for t in doc.project.tags.all() if t.id == tag_id)
        super().__init__(doc, f"Rename tag {old.name}")
        self.tag_id, self.before, self.after = tag_id, old.name, name

    def redo(self):
        self.project.tags.rename(self.tag_id, self.after)
        self.doc.notify_tags(set())

    def undo(self):
        self.project.tags.rename(self.tag_id, self.before)
        self.doc.notify_tags(set())


class DeleteTag(_DocCommand):
    def __init__(self, doc, tag_id: int):
        self.tag = next(t for t in doc.project.tags.all() if t.id == tag_id)
        super().__init__(doc, f"Delete tag {self.tag.name}")
        self.media: list[int] = []

    def redo(self):
        self.media = self.project.tags.delete(self.tag.id)
        self.doc.notify_tags(set(self.media))

    def undo(self):
        with self.project.transaction():
            self.project.tags.add(self.tag.name, self.tag.hotkey, tag_id=self.tag.id)
            for media_id in self.media:
                self.project.tags.set(media_id, self.tag.id, True)
        self.doc.notify_tags(set(self.media))
