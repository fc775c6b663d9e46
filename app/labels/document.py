"""The open project as the window sees it: intents in, undoable store writes out.

Views call the intent methods. Each one is one step of the project's undo journal
(``app.store.journal``): the edit and the SQL that reverses it commit together in
``kestrel.db``, and a light command on the ``QUndoStack`` names the step, so the
Edit menu's Undo/Redo work as before and the history survives a kill. The document
then emits what changed (derived from the rows the step touched) and the views
redraw from the store. The canvas never owns the document or the stack.

Any new undoable edit goes through ``edit(text, fn)``: ``fn(project)`` runs in one
transaction and every change it makes to a journaled table is undoable.

Another program writing to the project (``kestrel import``, Predict all) holds the
write lock for a moment. An edit waits at most ``BUSY_WAIT_MS`` for it, so the
window never freezes; if the lock is still held the edit is queued, retried from a
timer in order with any edits that follow, and saved when the lock is free
(``pending`` counts them; undo/redo wait meanwhile). A queued edit returns None.
A document opened ``read_only`` (a second window on the project) refuses edits.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from app.labels.commands import JournalCommand
from app.store.journal import Changes, Journal, JournalConflict
from app.store.project import Project
from app.store.repos.base import StoreError, is_busy

BUSY_WAIT_MS = 100      # how long an edit waits for another writer before it is queued
RETRY_MS = 100


class Document(QObject):
    boxes_changed = Signal(object)    # set of media ids
    classes_changed = Signal()
    tags_changed = Signal(object)     # set of media ids whose tags changed (empty: tag list)
    edited = Signal(object)           # {table: media ids} after every edit, undo and redo
    history_failed = Signal(str)      # an undo/redo could not run; the history was reset
    busy_changed = Signal(bool)       # edits are waiting for another writer (True) / saved
    refused = Signal(str)             # an edit was refused (read-only)

    def __init__(self, project: Project, parent: QObject | None = None, read_only: str | None = None):
        super().__init__(parent)
        self.project = project
        self.read_only = read_only        # why edits are refused, or None
        self.journal = Journal(project)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(self.journal.limit)
        self.author = None
        self._loading = False
        self._pending: list[tuple] = []
        self._retry = QTimer(self)
        self._retry.setInterval(RETRY_MS)
        self._retry.timeout.connect(self.flush)
        if read_only is None:
            self.reload_history()

    def set_read_only(self, reason: str | None) -> None:
        """Refuse edits (``reason`` says why), or accept them again with None."""
        self.read_only = reason
        self.reload_history() if reason is None else self.undo_stack.clear()

    # -- the journal -----------------------------------------------------------------
    def edit(self, text: str, fn: Callable[[Project], Any], media_ids=()) -> Any:
        """Run ``fn(project)`` as one undoable step named ``text``; returns its result.

        ``media_ids``: media to report in ``boxes_changed`` even if no journaled row
        of theirs changed (the rows that did change are reported anyway). None when
        the edit was queued (another writer holds the project) or refused.
        """
        if self.read_only:
            self.refused.emit(f"{text}: {self.read_only}")
            return None
        if self._pending:
            self._pending.append((text, fn, media_ids))
            return None
        try:
            return self._record(text, fn, media_ids, push=True)
        except StoreError as exc:
            if not is_busy(exc):
                raise
        self._pending.append((text, fn, media_ids))
        self.undo_stack.beginMacro(text)       # undo/redo wait (disabled) meanwhile
        self._retry.start()
        self.busy_changed.emit(True)
        return None

    def pending(self) -> int:
        """Edits waiting for another writer to let go of the project."""
        return len(self._pending)

    def _record(self, text, fn, media_ids, push: bool) -> Any:
        with self.project.db.waiting_at_most(BUSY_WAIT_MS):
            step, result, changes = self.journal.record(text, fn)
        if step is not None and push:
            self.undo_stack.push(JournalCommand(self, step.id, step.text))
            if changes.pruned_by_size:         # the stack only drops by count: follow the journal
                self.reload_history()
        self._notify(changes, set(media_ids))
        return result

    def flush(self) -> bool:
        """Save queued edits, in order, while the project is free; True when none wait."""
        while self._pending:
            text, fn, media_ids = self._pending[0]
            try:
                self._record(text, fn, media_ids, push=False)
            except StoreError as exc:
                if is_busy(exc):
                    return False
                self.history_failed.emit(f"{text} could not be saved: {exc}")
            except Exception as exc:   # e.g. its box was deleted by the other writer
                self.history_failed.emit(f"{text} could not be saved: {exc}")
            self._pending.pop(0)
        self._retry.stop()
        self.undo_stack.endMacro()
        self.reload_history()                  # the steps just saved, one by one
        self.busy_changed.emit(False)
        return True

    def replay(self, step_id: int, undo: bool) -> None:
        """Called by the stack's commands: undo or redo a step in the store."""
        if self._loading:
            return
        try:
            with self.project.db.waiting_at_most(BUSY_WAIT_MS):
                changes = self.journal.undo(step_id) if undo else self.journal.redo(step_id)
        except JournalConflict as exc:
            # The step no longer reverses exactly; nothing was written. The rest of
            # the history leads through it, so it goes (after the stack has settled).
            QTimer.singleShot(0, self.clear_history)
            self.history_failed.emit(f"{exc}. The undo history was cleared; the labels are "
                                     "as they were.")
            return
        except Exception as exc:   # busy, disk: nothing was written; the store decides
            QTimer.singleShot(0, self.reload_history)
            self.history_failed.emit(f"Cannot {'undo' if undo else 'redo'}: {exc}")
            return
        self._notify(changes)

    def reload_history(self) -> None:
        """Rebuild the undo stack from the journal (at open, or after a failure)."""
        self._loading = True
        try:
            self.undo_stack.clear()
            steps = self.journal.history()
            for step in steps:
                self.undo_stack.push(JournalCommand(self, step.id, step.text))
            self.undo_stack.setIndex(sum(not s.undone for s in steps))
        finally:
            self._loading = False

    def clear_history(self) -> None:
        self.journal.clear()
        self.undo_stack.clear()

    def _notify(self, changes: Changes, media_ids: set[int] = frozenset()) -> None:
        if "classes" in changes:
            self.classes_changed.emit()
        boxes = changes.media("boxes", "track_events", "label_marks") | set(media_ids)
        if boxes:
            self.boxes_changed.emit(boxes)
        if "tags" in changes:
            self.tags_changed.emit(set())
        tagged = changes.media("media_tags")
        if tagged:
            self.tags_changed.emit(tagged)
        if changes.tables:
            self.edited.emit(changes.tables)

    # -- notifications (kept for callers that change rows outside the journal) ---------
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
        ids = self.add_boxes([dict(media_id=media_id, class_id=class_id, frame=frame, x1=x1,
                                   y1=y1, x2=x2, y2=y2, track_id=track_id, author=self.author)])
        return ids[0] if ids else None

    def add_boxes(self, rows: list[dict], text: str = "Add box") -> list[int]:
        """New boxes (dicts as for ``project.boxes.add``) in one step; their ids
        (none while the edit waits for another writer)."""
        rows = [dict(r, author=r.get("author", self.author)) for r in rows]
        if not rows:
            return []
        text = text if len(rows) == 1 else f"{text} ×{len(rows)}"
        pictures = {(r["media_id"], r.get("frame", 0)) for r in rows}

        def fn(p):
            p.status.clear_empty(pictures)    # a box drawn: no longer "no objects"
            return p.boxes.add(rows)

        return self.edit(text, fn, {r["media_id"] for r in rows}) or []

    def paste_boxes(self, media_id: int, frame: int, boxes: list[dict],
                    text: str = "Paste box") -> list[int]:
        rows = [dict(b, media_id=media_id, frame=frame, source="manual", score=None,
                     run_id=None, author=self.author) for b in boxes]
        for row in rows:
            row.pop("id", None)
        return self.add_boxes(rows, text)

    def move_boxes(self, edits: list[tuple]) -> None:
        """``edits``: (id, x1, y1, x2, y2) per box, as the canvas reports a gesture."""
        changes = {}
        for box_id, x1, y1, x2, y2 in edits:
            x1, x2 = sorted((x1, x2))
            y1, y2 = sorted((y1, y2))
            changes[box_id] = dict(x1=x1, y1=y1, x2=x2, y2=y2)
        if changes:
            text = "Move box" if len(changes) == 1 else f"Move boxes ×{len(changes)}"
            self._update_boxes(changes, text)

    def set_boxes_class(self, box_ids: list[int], class_id: int) -> None:
        if box_ids:
            self._update_boxes({i: {"class_id": class_id} for i in box_ids}, "Change class")

    def _update_boxes(self, changes: dict[int, dict], text: str) -> None:
        def fn(p):
            for box_id, fields in changes.items():
                p.boxes.update(box_id, **fields)

        self.edit(text, fn, {self.project.boxes.get(i).media_id for i in changes})

    def delete_boxes(self, box_ids: list[int]) -> None:
        if box_ids:
            ids = list(box_ids)
            media = {self.project.boxes.get(i).media_id for i in ids}
            self.edit("Delete box" if len(ids) == 1 else f"Delete box ×{len(ids)}",
                      lambda p: p.boxes.delete(ids), media)

    # -- labelling status --------------------------------------------------------------
    def set_no_objects(self, media_id: int, frame: int = 0, on: bool = True) -> None:
        """Mark a picture without boxes as labelled with no objects (a negative), or
        take the mark off (not labelled again). Refused on a picture with boxes."""
        if on:
            n = len(self.project.boxes.labels(media_id, frame))
            if n:
                raise ValueError(f"this picture has {n} box{'es' if n != 1 else ''}: "
                                 "delete them to mark it as having no objects")
        self.edit("Mark no objects" if on else "Unmark no objects",
                  lambda p: p.status.set_mark(media_id, frame, "empty", on), {media_id})

    def set_needs_review(self, media_id: int, frame: int = 0, on: bool = True) -> None:
        """Flag a picture's labels for another look (left out of training meanwhile)."""
        self.edit("Mark needs review" if on else "Reviewed",
                  lambda p: p.status.set_mark(media_id, frame, "review", on), {media_id})

    # -- classes ---------------------------------------------------------------------
    def add_class(self, name: str, color: str | None = None) -> int:
        name = name.strip()
        if self.project.classes.by_name(name):
            raise ValueError(f"a class named {name!r} exists already")
        return self.edit(f"Add class {name}", lambda p: p.classes.add(name, color))

    def rename_class(self, class_id: int, name: str) -> None:
        name = name.strip()
        existing = self.project.classes.by_name(name)
        if existing and existing.id != class_id:
            raise ValueError(f"a class named {name!r} exists already")
        self.edit("Rename class", lambda p: p.classes.update(class_id, name=name))

    def recolor_class(self, class_id: int, color: str) -> None:
        self.edit("Recolour class", lambda p: p.classes.update(class_id, color=color))

    def reorder_classes(self, ids: list[int]) -> None:
        ids = list(ids)
        self.edit("Reorder classes", lambda p: p.classes.reorder(ids))

    def delete_class(self, class_id: int) -> None:
        """Its boxes go with it (a cascade the journal records); undo brings both back."""
        name = self.project.classes.get(class_id).name

        def fn(p):
            # Boxes first, then the class: a cascade would not replay row by row.
            p.boxes.delete(p.boxes.ids_of_class(class_id, labels_only=True))
            p.classes.delete(class_id)

        self.edit(f"Delete class {name}", fn)

    # -- tags ------------------------------------------------------------------------
    def set_tag(self, media_ids: list[int], tag_id: int, on: bool) -> None:
        name = next(t.name for t in self.project.tags.all() if t.id == tag_id)
        media = list(media_ids)

        def fn(p):
            for media_id in media:
                p.tags.set(media_id, tag_id, on)

        self.edit(f"{'Tag' if on else 'Untag'} {name}", fn)

    def add_tag(self, name: str) -> int:
        name = name.strip()
        if any(t.name == name for t in self.project.tags.all()):
            raise ValueError(f"a tag named {name!r} exists already")
        return self.edit(f"Add tag {name}", lambda p: p.tags.add(name))

    def rename_tag(self, tag_id: int, name: str) -> None:
        old = next(t.name for t in self.project.tags.all() if t.id == tag_id)
        self.edit(f"Rename tag {old}", lambda p: p.tags.rename(tag_id, name.strip()))

    def delete_tag(self, tag_id: int) -> None:
        name = next(t.name for t in self.project.tags.all() if t.id == tag_id)

        def fn(p):
            for media_id in p.tags.media_of(tag_id):   # before the tag: see delete_class
                p.tags.set(media_id, tag_id, False)
            p.tags.delete(tag_id)

        self.edit(f"Delete tag {name}", fn)
