"""Pre-labels: the active model's predictions offered on the canvas as proposals.

On a picture that is not labelled yet when it is opened (or that Label next opened),
the active model's predictions above the Predictions panel's threshold are drawn among
the boxes, dashed, as *proposals*, until the user decides on each:

* a click on one accepts it as a label, ``Enter`` accepts every one shown;
* moving or resizing one, or giving it a class (1-9), makes the edited box a label;
* ``Delete`` (select it with Ctrl+click or a rubber band first) dismisses it.

Each decision is one step of the undo journal (``Document.edit``): the label it makes
and a row of ``proposal_decisions`` together, so Ctrl+Z puts the proposal back. The
decisions count how useful the model is: accepted unchanged, edited, deleted
(``counts_changed``, shown in the status bar). Proposals the user leaves alone count
nowhere. The review overlay leaves the predictions shown here out, so nothing is
drawn twice. A proposal that repeats a label already there (same class, IoU >= 0.5)
is not offered.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QTimer, Signal

from app.review.metrics import iou_matrix
from widgets.shapes import BoxShape

SETTING = "next/prelabels"
CLICK_PX = 4            # a press and release closer than this is a click, not a drag
DUPLICATE_IOU = 0.5


class Prelabels(QObject):
    message = Signal(str)
    counts_changed = Signal(int, int, int)     # accepted unchanged, edited, deleted

    def __init__(self, project, doc, annotator, review, parent: QObject | None = None):
        """``review``: the ReviewController (its active model, threshold and overlay)."""
        super().__init__(parent)
        self.project, self.doc, self.annotator, self.review = project, doc, annotator, review
        self.canvas = annotator.canvas
        self.enabled = project.settings.get(SETTING, "1") == "1"
        self._current: tuple[int, int] | None = None
        self._active = False
        self._expected: tuple[int, int] | None = None    # opened from the queue
        self._shown: dict[int, object] = {}               # proposal id → prediction Box
        self._press: QPointF | None = None
        annotator.proposals = self
        self.canvas.viewport().installEventFilter(self)
        doc.edited.connect(self._edited)
        review.live.shown.connect(self._predictions_arrived)
        review.panel.threshold_changed.connect(lambda _v: self._refresh())

    # -- settings ----------------------------------------------------------------------
    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        self.project.settings.set(SETTING, "1" if on else "0")
        self._current = None           # decide again for the picture on screen
        self._refresh()

    def expect(self, media_id: int, frame: int = 0) -> None:
        """Label next is opening this picture: offer proposals there whatever its status."""
        self._expected = (media_id, frame)

    @property
    def run_id(self) -> int | None:
        return self.review.live.run_id

    def shown_ids(self) -> list[int]:
        return list(self._shown)

    # -- what the annotator draws ----------------------------------------------------------
    def shapes(self, media_id: int, frame: int, classes: dict) -> list[BoxShape]:
        key = (media_id, frame)
        if key != self._current:       # a new picture: offer proposals there?
            self._current = key
            self._active = self.enabled and (key == self._expected or
                                             self.project.status.of(media_id, frame) == "unlabelled")
            self._expected = None if key == self._expected else self._expected
        self._shown = {b.id: b for b in self._proposals(media_id, frame)} if self._active else {}
        self.review.overlay.set_hidden_ids(self._shown)
        out = []
        for b in self._shown.values():
            c = classes.get(b.class_id)
            if c is not None:
                out.append(BoxShape(b.id, b.x1, b.y1, b.x2, b.y2, b.class_id, c.name, c.color,
                                    "proposal", b.score))
        return out

    def _proposals(self, media_id: int, frame: int) -> list:
        run_id = self.run_id
        if run_id is None:
            return []
        thr = self.review.panel.threshold()
        hidden = set(self.review.panel.hidden())
        decided = self.project.next.decided(run_id, media_id, frame)
        preds = [p for p in self.project.predictions.boxes(run_id, media_id, frame, min_score=thr)
                 if p.id not in decided and p.class_id not in hidden]
        labels = self.project.boxes.labels(media_id, frame)
        if not preds or not labels:
            return preds
        ious = iou_matrix([p.rect for p in preds], [b.rect for b in labels])
        same = [[p.class_id == b.class_id for b in labels] for p in preds]
        return [p for i, p in enumerate(preds)
                if not any(ious[i, j] >= DUPLICATE_IOU and same[i][j] for j in range(len(labels)))]

    # -- decisions -------------------------------------------------------------------------
    def accept(self, ids) -> list[int]:
        """Accept proposals as labels, unchanged: one undoable step."""
        picked = [self._shown[i] for i in ids if i in self._shown]
        return self._decide(picked, "accepted", "Accept proposal")

    def accept_all(self) -> list[int]:
        """Enter: every proposal shown on this picture becomes a label."""
        if not self._shown:
            self.message.emit("no proposals here" if self._active or self.run_id is None
                              else "proposals show on pictures not labelled yet")
            return []
        return self.accept(list(self._shown))

    def take_edits(self, edits: list) -> list:
        """Canvas edits: a moved or resized proposal becomes a label where it was put."""
        mine = [e for e in edits if e[0] in self._shown]
        rest = [e for e in edits if e[0] not in self._shown]   # before deciding redraws them
        if mine:
            rects = {i: (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
                     for i, x1, y1, x2, y2 in mine}
            new = self._decide([self._shown[i] for i in rects], "edited", "Edit proposal", rects)
            self.canvas.select(new)
        return rest

    def take_class(self, ids: list, class_id: int) -> list:
        """A class key on selected proposals: labels of that class."""
        mine = [i for i in ids if i in self._shown]
        rest = [i for i in ids if i not in self._shown]
        if mine:
            new = self._decide([self._shown[i] for i in mine], "edited", "Edit proposal",
                               classes={i: class_id for i in mine})
            self.canvas.select(new)
        return rest

    def take_deletes(self, ids: list) -> list:
        """Delete on selected proposals: dismissed (the model was wrong)."""
        mine = [self._shown[i] for i in ids if i in self._shown]
        rest = [i for i in ids if i not in self._shown]   # the edit below redraws them
        if mine:
            run_id, key = self.run_id, self._current

            def fn(p):
                for b in mine:
                    p.next.decide(run_id, b.media_id, b.frame, b.id, "deleted")
            n = len(mine)
            self.doc.edit("Delete proposal" if n == 1 else f"Delete proposal ×{n}", fn, {key[0]})
            self.message.emit(f"dismissed {n} proposal(s)")
        return rest

    def _decide(self, preds: list, outcome: str, text: str, rects: dict | None = None,
                classes: dict | None = None) -> list[int]:
        if not preds:
            return []
        run_id, author = self.run_id, self.doc.author
        rects, classes = rects or {}, classes or {}

        def fn(p):
            made = []
            p.status.clear_empty({(b.media_id, b.frame) for b in preds})
            for b in preds:
                x1, y1, x2, y2 = rects.get(b.id, b.rect)
                [box_id] = p.boxes.add([dict(media_id=b.media_id, frame=b.frame,
                                             class_id=classes.get(b.id, b.class_id), x1=x1, y1=y1,
                                             x2=x2, y2=y2, source="manual", author=author)])
                p.next.decide(run_id, b.media_id, b.frame, b.id, outcome, box_id)
                made.append(box_id)
            return made
        n = len(preds)
        made = self.doc.edit(text if n == 1 else f"{text} ×{n}", fn, {preds[0].media_id}) or []
        if made:
            word = "accepted" if outcome == "accepted" else "edited into labels:"
            self.message.emit(f"{word} {n} proposal(s)")
        return made

    # -- what changes them ---------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return self.project.next.outcomes(self.run_id) if self.run_id is not None else \
            {"accepted": 0, "edited": 0, "deleted": 0}

    def emit_counts(self) -> None:
        c = self.counts()
        self.counts_changed.emit(c["accepted"], c["edited"], c["deleted"])

    def _edited(self, tables: dict) -> None:
        if "proposal_decisions" in tables:
            self.emit_counts()
            if self._current is not None and self._current[0] in tables["proposal_decisions"]:
                self._refresh()

    def _predictions_arrived(self, media_id: int, frame: int, _boxes, stale: bool) -> None:
        if not stale and (media_id, frame) == self._current and self._active:
            self._refresh()

    def _refresh(self) -> None:
        if self.annotator.media_id is not None:
            self.annotator.refresh()

    def model_changed(self) -> None:
        self._current = None
        self._refresh()
        self.emit_counts()

    # -- a click accepts one -------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind == QEvent.MouseButtonPress and event.button() == Qt.LeftButton:
            plain = not event.modifiers() & (Qt.ControlModifier | Qt.ShiftModifier)
            self._press = event.position() if plain and not self.canvas.draw_mode() else None
        elif kind == QEvent.MouseButtonRelease and self._press is not None:
            moved = (event.position() - self._press).manhattanLength()
            self._press = None
            selected = self.canvas.selected_ids()
            if moved < CLICK_PX and len(selected) == 1 and selected[0] in self._shown:
                # after the canvas has finished with this release
                QTimer.singleShot(0, lambda i=selected[0]: self.accept([i]))
        return False
