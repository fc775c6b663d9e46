"""The undo stack's commands: light handles on steps of the project's undo journal.

Every edit is recorded in ``kestrel.db`` (``app.store.journal``) in the same
transaction as the edit itself; a command here holds only the step's id and its
menu text, so a long history costs no memory and reloads when the project opens.
Undo and redo ask the document to replay the step.
"""

from __future__ import annotations

import weakref

from PySide6.QtGui import QUndoCommand


class JournalCommand(QUndoCommand):
    """One step of the journal on the ``QUndoStack``.

    It is pushed after the edit has been written (``done=True``), or while the
    history is reloaded: the stack's first call to ``redo`` is then not replayed.
    """

    def __init__(self, doc, step_id: int, text: str, done: bool = True):
        super().__init__(text)
        # Weak: a strong reference would close a cycle document → stack → command →
        # document, and a cycle holding Qt-owned commands crashes the collector.
        self._doc = weakref.ref(doc)
        self.step_id = step_id
        self._skip_redo = done

    def redo(self):
        if self._skip_redo:
            self._skip_redo = False
            return
        doc = self._doc()
        if doc is not None:
            doc.replay(self.step_id, undo=False)

    def undo(self):
        doc = self._doc()
        if doc is not None:
            doc.replay(self.step_id, undo=True)
