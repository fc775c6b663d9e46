"""Wires the classes and tags panels to the document and the current media."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from widgets.classes_panel import ClassesPanel, ClassRow
from widgets.tags_panel import TagRow, TagsPanel


class PanelsController(QObject):
    problem = Signal(str, str)      # title, text: a name clash the user should fix

    def __init__(self, doc, annotator, shortcut_parent: QWidget):
        super().__init__(shortcut_parent)
        self.doc = doc
        self.project = doc.project
        self.annotator = annotator
        self.classes_panel = ClassesPanel()
        self.tags_panel = TagsPanel()

        cp = self.classes_panel
        cp.current_changed.connect(annotator.set_current_class)
        cp.add_requested.connect(lambda name: self._guard(self.doc.add_class, name))
        cp.rename_requested.connect(lambda cid, name: self._guard(self.doc.rename_class, cid, name))
        cp.recolor_requested.connect(self.doc.recolor_class)
        cp.reorder_requested.connect(self.doc.reorder_classes)
        cp.delete_requested.connect(self.doc.delete_class)
        annotator.current_class_changed.connect(cp.set_current)

        tp = self.tags_panel
        tp.toggled.connect(self._toggle_tag)
        tp.add_requested.connect(lambda name: self._guard(self.doc.add_tag, name))
        tp.rename_requested.connect(lambda tid, name: self._guard(self.doc.rename_tag, tid, name))
        tp.delete_requested.connect(self.doc.delete_tag)

        doc.classes_changed.connect(self.refresh_classes)
        doc.boxes_changed.connect(lambda _ids: self.refresh_classes())
        doc.tags_changed.connect(self._tags_changed)
        for n in range(1, 10):
            QShortcut(QKeySequence(f"Alt+{n}"), shortcut_parent,
                      activated=lambda n=n: self.toggle_nth_tag(n))
        self.refresh()

    def docks(self):
        return [("Classes", self.classes_panel), ("Tags", self.tags_panel)]

    def _guard(self, fn, *args):
        """Name clashes and empty names are the user's to fix: say so, don't crash."""
        try:
            return fn(*args)
        except ValueError as exc:
            self.problem.emit("Kestrel", str(exc))
            return None

    # -- classes ---------------------------------------------------------------------------
    def refresh(self) -> None:
        self.refresh_classes()
        self.refresh_tags()

    def refresh_classes(self) -> None:
        counts = self.project.classes.box_counts()
        interpolated = self.project.classes.interpolated_counts()
        self.classes_panel.set_classes([
            ClassRow(c.id, c.name, c.color, c.hotkey, counts.get(c.id, 0),
                     interpolated.get(c.id, 0))
            for c in self.project.classes.all()])
        if self.annotator.current_class is not None:
            self.classes_panel.set_current(self.annotator.current_class)

    # -- tags ----------------------------------------------------------------------------
    def refresh_tags(self) -> None:
        tags = self.project.tags.all()
        self.tags_panel.set_tags([TagRow(t.id, t.name, f"Alt+{i + 1}" if i < 9 else None)
                                  for i, t in enumerate(tags)])
        self.media_changed(self.annotator.media_id)

    def media_changed(self, media_id: int | None) -> None:
        self.tags_panel.set_checked(self.project.tags.of(media_id) if media_id else set())

    def _tags_changed(self, media_ids: set) -> None:
        if not media_ids:
            self.refresh_tags()
        elif self.annotator.media_id in media_ids:
            self.media_changed(self.annotator.media_id)

    def _toggle_tag(self, tag_id: int, on: bool) -> None:
        media_id = self.annotator.media_id
        if media_id is not None and (tag_id in self.project.tags.of(media_id)) != on:
            self.doc.set_tag([media_id], tag_id, on)

    def toggle_nth_tag(self, n: int) -> None:
        tags = self.project.tags.all()
        media_id = self.annotator.media_id
        if media_id is None or n > len(tags):
            return
        tag = tags[n - 1]
        self.doc.set_tag([media_id], tag.id, tag.id not in self.project.tags.of(media_id))
