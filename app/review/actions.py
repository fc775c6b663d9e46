"""What the Predictions panel and the Model menu do: accept, predict all, import a
checkpoint, metrics, classes the model knows and the project lacks, and the review
counts laid over the media browser."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from app.browser.source import Marks
from app.predictions.batch import PredictAll
from app.predictions.core import PredictError, check_checkpoint, record_checkpoint
from app.review import evaluation as split
from app.runs.records import events_of
from widgets.actions import make_action


def _marks_of(counts: dict[int, tuple[int, int, int]]) -> tuple[dict, dict]:
    status, weight = {}, {}
    for media_id, (tp, fp, fn) in counts.items():
        if fp or fn:
            status[media_id] = f"review: {tp} TP · {fp} FP · {fn} missed"
            weight[media_id] = fp + fn
    return status, weight


class ReviewActions(QObject):
    def __init__(self, review):
        super().__init__(review)
        self.review = review
        self.project = review.project
        self.batch: PredictAll | None = None
        self.dialog = None
        self.sort = (False, False)
        self.batch_size = 4       # frames per model call in Predict all; cancel acts between
        self.ask_add_classes = self._ask_add_classes   # tests inject an answer

    def menu_actions(self, parent) -> dict:
        r = self.review
        review_action = make_action(parent, "&Review against labels", r.panel.review.setChecked,
                                    "Ctrl+Shift+R", checkable=True)
        r.panel.review.toggled.connect(review_action.setChecked)
        return {
            "import_checkpoint": make_action(parent, "&Import checkpoint…",
                                             self.import_checkpoint_dialog),
            "predict_all": make_action(parent, "&Predict all", self.predict_all),
            "accept_shown": make_action(parent, "&Accept shown predictions", self.accept_shown,
                                        "Ctrl+Shift+A"),
            "review": review_action,
            "metrics": make_action(parent, "&Metrics…", self.show_metrics),
        }

    # -- accept ----------------------------------------------------------------------
    def accept_ids(self, pred_ids: list[int]) -> list[int]:
        """Predictions become labels (source manual) in one undoable step."""
        rows = []
        for box_id in pred_ids:
            b = self.project.boxes.get(box_id)
            rows.append(dict(media_id=b.media_id, frame=b.frame, class_id=b.class_id, x1=b.x1,
                             y1=b.y1, x2=b.x2, y2=b.y2, source="manual"))
        ids = self.review.doc.add_boxes(rows, "Accept prediction")
        if ids:
            self.review.message.emit(f"accepted {len(ids)} prediction(s) as labels")
        return ids

    def accept_shown(self) -> list[int]:
        """Every prediction drawn now (above the threshold, classes shown, not stale)."""
        if self.review.overlay.stale:
            return []
        return self.accept_ids([b.id for b in self.review.overlay.visible_boxes()
                                if b.status != "fn"])

    def accept_range(self) -> None:
        video = self.review.video
        media_id, run_id = video.media_id, self.review.live.run_id
        if media_id is None or run_id is None:
            return
        last = video.player.frame_count - 1
        here = self.review.annotator.frame
        host = self.review.host
        start, ok = QInputDialog.getInt(host, "Accept predictions", "First frame:", here, 0, last)
        if not ok:
            return
        end, ok = QInputDialog.getInt(host, "Accept predictions", "Last frame:",
                                      min(last, start + 50), start, last)
        if ok:
            self.accept_frames(media_id, start, end)

    def accept_frames(self, media_id: int, start: int, end: int) -> list[int]:
        """Accept predictions above the threshold on predicted frames start..end."""
        run_id, thr = self.review.live.run_id, self.review.panel.threshold()
        hidden = set(self.review.panel.hidden())
        predictions = self.project.predictions
        ids = [b.id for _m, f in predictions.frames(run_id, media_id) if start <= f <= end
               for b in predictions.boxes(run_id, media_id, f)
               if (b.score or 0) >= thr and b.class_id not in hidden]
        missing = sum(1 for f in range(start, end + 1) if not predictions.has(run_id, media_id, f))
        if missing:
            self.review.message.emit(f"{missing} frame(s) in range not predicted yet: run Predict all")
        return self.accept_ids(ids)

    # -- classes the model knows and the project lacks --------------------------------
    def offer_missing_classes(self, names: list[str]) -> None:
        if self.ask_add_classes(names):
            for name in names:
                if self.project.classes.by_name(name) is None:
                    self.review.doc.add_class(name)      # undoable; the panels refresh
            self.review.live.remap()
            self.review.message.emit(f"added classes {', '.join(names)}")
        else:
            self.review.message.emit(f"predictions of {', '.join(names)} are left out "
                                     "(the project has no such class)")

    def _ask_add_classes(self, names: list[str]) -> bool:
        answer = QMessageBox.question(
            self.review.host, "Classes the model knows",
            f"The model predicts {', '.join(repr(n) for n in names)}, which this project has "
            "no class for. Add them as classes? (No: their predictions are left out.)",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        return answer == QMessageBox.Yes

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
        """Cancel Predict all; it stops between batches and says so (no waiting here)."""
        if self.batch is not None and self.batch.isRunning():
            self.batch.cancel()

    def shutdown(self) -> None:
        if self.batch is not None and self.batch.isRunning():
            self.batch.detach()
        self.batch = None

    def _batch_done(self, done: int, cancelled: bool) -> None:
        self.review.panel.set_idle()
        self.update_coverage()
        word = "cancelled after" if cancelled else "predicted"
        self.review.message.emit(f"Predict all: {word} {done} frame(s)")
        self.review.live.refresh()
        self.resort()

    def _batch_failed(self, text: str) -> None:
        self.review.panel.set_idle()
        self.review.problem.emit("Predict all failed", text)

    # -- import a checkpoint ---------------------------------------------------------
    def import_checkpoint_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.review.host, "Import checkpoint", "",
                                              "Checkpoints (*.pt *.pth);;All files (*)")
        if path:
            self.import_checkpoint(path)

    def import_checkpoint(self, path: str) -> None:
        """Checked (torch loads there) and copied into a run folder off the GUI thread."""
        def work(project, file):
            try:
                return record_checkpoint(project, file, check_checkpoint(file))
            except PredictError as exc:
                return str(exc)
        self.review.message.emit(f"checking {path}…")
        self.review.background.submit(work, path, done=lambda result: self._imported(path, result))

    def _imported(self, path: str, result) -> None:
        if isinstance(result, str):
            self.review.problem.emit("Checkpoint refused", result)
            return
        self.review.refresh_runs()
        self.review.set_run(result)
        self.review.message.emit(f"imported {path} as run #{result}")

    # -- browser counts --------------------------------------------------------------
    def sort_browser(self, most_first: bool, mistakes_only: bool) -> None:
        self.sort = (most_first, mistakes_only)
        self.resort()

    def review_on(self) -> bool:
        return self.review.live.run_id is not None and self.review.panel.review.isChecked()

    def resort(self) -> None:
        """Lay review counts (and the mistakes order) over the browser, or take them off;
        counted on the background worker, the newest request wins."""
        self.update_coverage()
        if not self.review_on():
            self.review.browser.set_marks(None)
            return
        args = (self.review.live.run_id, self.review.panel.threshold(), self.review.iou)
        self.review.background.submit(lambda p, *a: split.media_counts(p, *a), *args,
                                      done=self._counted, key="counts")

    def update_coverage(self) -> None:
        """Say in the panel how many labelled pictures the model has predicted: review
        counts and "most mistakes" know only those until Predict all has run."""
        run_id = self.review.live.run_id
        if run_id is None:
            self.review.panel.set_hint("")
            return
        self.review.background.submit(lambda p, r: split.coverage(p, r), run_id,
                                      done=self._covered, key="coverage")

    def _covered(self, numbers: tuple[int, int]) -> None:
        done, labelled = numbers
        if self.review.live.run_id is None:
            return
        if labelled and done < labelled:
            self.review.panel.set_hint(
                f"The model has predicted {done} of {labelled} labelled pictures: it predicts "
                "what you open, Predict all does the rest. Review counts and “most mistakes” "
                "cover predicted labelled pictures only.")
        else:
            self.review.panel.set_hint(f"Predicted: all {labelled} labelled picture(s)." if labelled
                                       else "No labelled pictures yet: predictions are proposals.")

    def _counted(self, counts: dict) -> None:
        if not self.review_on():
            return
        status, weight = _marks_of(counts)
        self.review.browser.set_marks(Marks(status, weight, *self.sort))

    def counts_changed(self, media_ids) -> None:
        if media_ids:
            self.update_coverage()          # a picture may have become labelled
        if not self.review_on() or not media_ids:
            return
        ids = list(media_ids)
        args = (self.review.live.run_id, self.review.panel.threshold(), self.review.iou, ids)

        def done(counts):
            if self.review_on():
                self.review.browser.update_marks(ids, *_marks_of(counts))
        self.review.background.submit(lambda p, *a: split.media_counts(p, *a), *args, done=done)

    # -- metrics ---------------------------------------------------------------------
    def show_metrics(self) -> None:
        """Computed on the background worker; the dialog opens when they are ready."""
        run_id = self.review.live.run_id
        if run_id is None:
            return
        iou, thr = self.review.iou, self.review.panel.threshold()

        def work(project):
            run = project.runs.get(run_id)
            ev, scope, n = split.evaluate_run(project, run, iou, thr)
            trainer = {}
            for e in events_of(project, run_id):
                if e.get("event") == "metrics" and e.get("per_class"):
                    trainer = e["per_class"]          # the last evaluation wins
            return run.name, ev, scope, n, trainer, project.classes.all()
        self.review.message.emit("computing metrics…")
        self.review.background.submit(work, done=lambda r: self._show_dialog(*r, iou, thr),
                                      key="metrics")

    def _show_dialog(self, name, ev, scope, n, trainer, classes, iou, thr) -> None:
        from widgets.review.metrics import MetricsDialog

        dialog = self.dialog = self.dialog or MetricsDialog(self.review.host)
        dialog.set_scope(f"{name}: review numbers on {scope} ({n} predicted frames, "
                         f"IoU ≥ {iou:.2f}; confusion at score ≥ {thr:.2f}). AP@[.5:.95] is "
                         "the trainer's, on its validation split.")
        dialog.set_ap([(c.name, trainer.get(c.name), ev.curves[c.id].ap) for c in classes])
        dialog.set_curves([(c.name, c.color, ev.curves[c.id].recall.tolist(),
                            ev.curves[c.id].precision.tolist(), ev.curves[c.id].ap)
                           for c in classes if len(ev.curves[c.id].recall)])
        dialog.set_confusion([c.name for c in classes], ev.confusion.tolist())
        dialog.show()
        self.review.message.emit("")
