"""What the Predictions dock and the Model menu do: accept, predict all, import a
checkpoint, metrics, and the review counts in the media browser."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog

from app.review import evaluation as split
from app.predictions.batch import PredictAll
from app.predictions.core import PredictError, check_checkpoint, record_checkpoint
from app.review.source import ReviewSource
from app.runs.records import events_of


class ReviewActions(QObject):
    _checked = Signal(str, object)     # file, summary dict or error text (from a thread)

    def __init__(self, review):
        super().__init__(review)
        self.review = review
        self.window = review.window
        self.project = review.project
        self.batch: PredictAll | None = None
        self.dialog = None
        self.sort = (False, False)
        self.batch_size = 4       # frames per model call in Predict all; cancel acts between
        self._checked.connect(self._checkpoint_checked)

    # -- accept ----------------------------------------------------------------------
    def accept_ids(self, pred_ids: list[int]) -> list[int]:
        """Predictions become labels (source manual) in one undoable step."""
        rows = []
        for box_id in pred_ids:
            b = self.project.boxes.get(box_id)
            rows.append(dict(media_id=b.media_id, frame=b.frame, class_id=b.class_id, x1=b.x1,
                             y1=b.y1, x2=b.x2, y2=b.y2, source="manual", author=self.window.doc.author))
        if not rows:
            return []
        ids = self.window.doc.add_boxes(rows, "Accept prediction")
        self.window.statusBar().showMessage(f"accepted {len(rows)} prediction(s) as labels", 4000)
        return ids

    def accept_shown(self) -> list[int]:
        """Every prediction drawn now (above the threshold, classes shown, not stale)."""
        if self.review.overlay.stale:
            return []
        return self.accept_ids([b.id for b in self.review.overlay.visible_boxes()
                                if b.status != "fn"])

    def accept_range(self) -> None:
        media_id = self.window.video.media_id
        run_id = self.review.live.run_id
        if media_id is None or run_id is None:
            return
        last = self.window.video.player.frame_count - 1
        here = self.window.annotator.frame
        start, ok = QInputDialog.getInt(self.window, "Accept predictions", "First frame:", here, 0, last)
        if not ok:
            return
        end, ok = QInputDialog.getInt(self.window, "Accept predictions", "Last frame:",
                                      min(last, start + 50), start, last)
        if ok:
            self.accept_frames(media_id, start, end)

    def accept_frames(self, media_id: int, start: int, end: int) -> list[int]:
        """Accept predictions above the threshold on predicted frames start..end."""
        run_id, thr = self.review.live.run_id, self.review.panel.threshold()
        hidden = set(self.review.panel.hidden())
        ids = [b.id for _m, f in self.project.predictions.frames(run_id, media_id) if start <= f <= end
               for b in self.project.predictions.boxes(run_id, media_id, f)
               if (b.score or 0) >= thr and b.class_id not in hidden]
        missing = sum(1 for f in range(start, end + 1)
                      if not self.project.predictions.has(run_id, media_id, f))
        if missing:
            self.window.statusBar().showMessage(
                f"{missing} frame(s) in range not predicted yet: run Predict all", 6000)
        return self.accept_ids(ids)

    # -- predict all -----------------------------------------------------------------
    def predict_all(self, items=None) -> None:
        run_id = self.review.live.run_id
        if run_id is None or (self.batch is not None and self.batch.isRunning()):
            return
        self.batch = PredictAll(self.project.root, run_id, self.review.factory_for(run_id), items,
                                self, self.batch_size)
        self.batch.progress.connect(self.review.panel.set_busy)
        self.batch.finished_ok.connect(self._batch_done)
        self.batch.failed.connect(self._batch_failed)
        self.review.panel.set_busy(0, 0)
        self.batch.start()

    def cancel(self) -> None:
        if self.batch is not None and self.batch.isRunning():
            self.batch.cancel()
            self.batch.wait(60000)

    def _batch_done(self, done: int, cancelled: bool) -> None:
        self.review.panel.set_idle()
        word = "cancelled after" if cancelled else "predicted"
        self.window.statusBar().showMessage(f"Predict all: {word} {done} frame(s)", 6000)
        self.review.live.refresh()
        self.resort()

    def _batch_failed(self, text: str) -> None:
        self.review.panel.set_idle()
        self.window.inform("Predict all failed", text, warning=True)

    # -- import a checkpoint ---------------------------------------------------------
    def import_checkpoint_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import checkpoint", "",
                                              "Checkpoints (*.pt *.pth);;All files (*)")
        if path:
            self.import_checkpoint(path)

    def import_checkpoint(self, path: str) -> threading.Thread:
        """Checked on a thread (torch loads there); recorded on the GUI thread."""
        def check():
            try:
                self._checked.emit(path, check_checkpoint(path))
            except PredictError as exc:
                self._checked.emit(path, str(exc))
        self.window.statusBar().showMessage(f"checking {path}…", 4000)
        thread = threading.Thread(target=check, daemon=True)
        thread.start()
        return thread

    def _checkpoint_checked(self, path: str, result) -> None:
        if isinstance(result, str):
            self.window.inform("Checkpoint refused", result, warning=True)
            return
        run_id = record_checkpoint(self.project, path, result)
        self.review.refresh_runs()
        self.review.set_run(run_id)
        self.window.statusBar().showMessage(f"imported {path} as run #{run_id}", 6000)

    # -- browser counts --------------------------------------------------------------
    def sort_browser(self, most_first: bool, mistakes_only: bool) -> None:
        self.sort = (most_first, mistakes_only)
        self.resort()

    def review_on(self) -> bool:
        return self.review.live.run_id is not None and self.review.panel.review.isChecked()

    def resort(self) -> None:
        """Put review counts (and the mistakes order) into the browser, or take them out."""
        w = self.window
        kind, value = w.source.filter
        counts = {}
        if self.review_on():
            counts = split.media_counts(self.project, self.review.live.run_id,
                                        self.review.panel.threshold(), self.review.iou)
        if not counts and not isinstance(w.source, ReviewSource):
            return
        w.source = ReviewSource(self.project, kind, value, counts, *self.sort)
        w.browser.set_source(w.source)
        if w.media_id is not None:
            w.browser.set_current(w.media_id, emit=False)

    def counts_changed(self, media_ids) -> None:
        source = self.window.source
        if isinstance(source, ReviewSource) and self.review_on():
            source.counts.update(split.media_counts(
                self.project, self.review.live.run_id, self.review.panel.threshold(),
                self.review.iou, list(media_ids)))
            source.invalidate(media_ids)
            self.window.browser.refresh_rows(list(media_ids))

    # -- metrics ---------------------------------------------------------------------
    def show_metrics(self):
        from widgets.review.metrics import MetricsDialog

        run_id = self.review.live.run_id
        if run_id is None:
            return None
        run = self.project.runs.get(run_id)
        ev, scope, n = split.evaluate_run(self.project, run, self.review.iou,
                                          self.review.panel.threshold())
        trainer = {}
        for e in events_of(self.project, run_id):
            if e.get("event") == "metrics" and e.get("per_class"):
                trainer = e["per_class"]          # the last evaluation wins
        classes = self.project.classes.all()
        dialog = self.dialog = self.dialog or MetricsDialog(self.window)
        dialog.set_scope(f"{run.name}: review numbers on the {scope} ({n} predicted frames, "
                         f"IoU ≥ {self.review.iou:.2f}; confusion at score ≥ "
                         f"{self.review.panel.threshold():.2f}). AP@[.5:.95] is the trainer's, "
                         "on its validation split.")
        dialog.set_ap([(c.name, trainer.get(c.name), ev.curves[c.id].ap) for c in classes])
        dialog.set_curves([(c.name, c.color, ev.curves[c.id].recall.tolist(),
                            ev.curves[c.id].precision.tolist(), ev.curves[c.id].ap)
                           for c in classes if len(ev.curves[c.id].recall)])
        dialog.set_confusion([c.name for c in classes], ev.confusion.tolist())
        dialog.show()
        return dialog
