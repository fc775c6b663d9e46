"""ReviewController: live predictions, review and model-assisted labelling.

It hosts the Predictions panel and a prediction overlay on the canvas, follows the
annotator (images) and the video player (frames), and lays review counts over the
media browser. The model runs on a worker thread (torch is imported there, when a
model is first used); review counts and metrics are computed on a background
worker with its own project connection, so the GUI thread never waits on them.
The window gives it the few things it drives and wires it to the training runs.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from app.predictions.live import LivePredictions
from app.review import evaluation as split
from app.review.actions import ReviewActions
from app.runs.records import model_path
from app.tasks.torch_import import import_torch
from app.tasks.worker import ProjectWorker
from widgets.canvas.overlay import OverlayBox, PredictionOverlay
from widgets.review.panel import ReviewPanel

ACTIVE_RUN = "active_run"


def predictor_factory(path, device: str = "auto"):
    """Builds the Predictor where it is called (the worker thread): torch loads there."""
    def build():
        import_torch()
        from training.predictor import Predictor

        return Predictor(path, device=device, score_threshold=0.05)
    return build


class ReviewController(QObject):
    message = Signal(str)            # status bar
    problem = Signal(str, str)       # title, text

    def __init__(self, project, doc, canvas, annotator, video, browser, host: QWidget,
                 factory_for=None):
        """``video``: the VideoController (player and media on screen); ``browser``:
        the BrowserController the review counts are laid over; ``host``: the widget
        dialogs open over."""
        super().__init__(host)
        self.project, self.doc, self.canvas = project, doc, canvas
        self.annotator, self.video, self.browser, self.host = annotator, video, browser, host
        # run id -> model factory; tests swap in a stub model here
        self.factory_for = factory_for or (lambda run_id: predictor_factory(
            model_path(self.project, run_id)))
        self.panel = ReviewPanel()
        self.overlay = PredictionOverlay()
        canvas.add_overlay(self.overlay)
        self.live = LivePredictions(project, self)
        self.background = ProjectWorker(project.root, self, "kestrel-review",
                                        on_error=lambda text: self.message.emit(f"review: {text}"))
        self.actions = ReviewActions(self)
        self.iou = 0.5
        self.show_mode = "both"
        self._shown: tuple[int, int] | None = None
        self._coverage_of: int | None = None    # the run whose coverage the panel says
        self._recount = QTimer(self, singleShot=True, interval=150)  # the slider moves in bursts
        self._recount.timeout.connect(self.actions.resort)
        self._wire()
        self.refresh_runs()
        self.refresh_classes()

    # -- wiring --------------------------------------------------------------------
    def _wire(self) -> None:
        p = self.panel
        self.annotator.media_loaded.connect(self._media_loaded)
        self.video.player.frame_ready.connect(self._video_frame)
        self.video.player.playing_changed.connect(self._playing)
        self.doc.boxes_changed.connect(self._labels_changed)
        self.doc.classes_changed.connect(self.refresh_classes)
        self.live.shown.connect(self._draw)
        self.live.stored.connect(self._answer_stored)
        self.live.stats_changed.connect(self._stats)
        self.live.failed.connect(lambda text: self.message.emit(f"model: {text}"))
        self.live.missing_classes.connect(self.actions.offer_missing_classes)
        p.run_picked.connect(self.set_run)
        p.show_mode_changed.connect(self.set_show_mode)
        p.threshold_changed.connect(self._threshold)
        p.iou_changed.connect(self._iou)
        p.review_toggled.connect(self._review)
        p.hidden_classes_changed.connect(self.overlay.set_hidden_classes)
        p.accept_requested.connect(self.actions.accept_shown)
        p.accept_range_requested.connect(self.actions.accept_range)
        p.predict_all_requested.connect(self.actions.predict_all)
        p.cancel_requested.connect(self.actions.cancel)
        p.sort_changed.connect(self.actions.sort_browser)
        p.metrics_requested.connect(self.actions.show_metrics)
        self.browser.filter_changed.connect(lambda *_: self.actions.resort())
        self.canvas.viewport().installEventFilter(self)
        self.overlay.set_threshold(p.threshold())

    def menu_actions(self, parent) -> dict:
        return self.actions.menu_actions(parent)

    # -- model ---------------------------------------------------------------------
    def refresh_runs(self, *_args) -> None:
        """The detector runs with a model; with none active, the newest finished one is
        chosen (a finished run exists: the box should not say "none")."""
        all_runs = [r for r in self.project.runs.all()
                    if r.task == "detector" and model_path(self.project, r.id) is not None]
        runs = [(r.id, r.name) for r in all_runs]
        active = self.project.settings.get(ACTIVE_RUN)
        active = int(active) if active and active.isdigit() else None
        if active not in {r for r, _ in runs}:
            finished = [r.id for r in all_runs if r.status == "finished"]
            active = max(finished) if finished else None
        self.panel.set_runs(runs, active)
        if active != self.live.run_id:
            self.set_run(active)

    def active_run_changed(self, run_id: int) -> None:
        self.refresh_runs()
        self.set_run(run_id if model_path(self.project, run_id) else None)

    def set_run(self, run_id: int | None) -> None:
        if run_id is not None and model_path(self.project, run_id) is None:
            run_id = None
        if run_id is not None:
            self.project.settings.set(ACTIVE_RUN, str(run_id))
        self.live.set_model(run_id, self.factory_for(run_id) if run_id is not None else None)
        if self.panel.runs.currentData() != run_id:
            self.panel.set_runs([(self.panel.runs.itemData(i), self.panel.runs.itemText(i))
                                 for i in range(1, self.panel.runs.count())], run_id)
        self._update_enabled()
        self.panel.set_stats("no model" if run_id is None else "model loads on first use")
        self.video.timeline.set_info("")
        self.overlay.set_boxes([])
        self.actions.resort()
        self._show_current()

    def _update_enabled(self) -> None:
        self.panel.set_has_model(self.live.active, self.video.media_id is not None)

    # -- what is on screen ---------------------------------------------------------
    def _media_loaded(self, media_id: int) -> None:
        self._update_enabled()
        w, h = self.canvas.image_size()
        self.overlay.set_size(w, h)
        if self._coverage_of != self.live.run_id:
            # once per model: a page turn changes neither the labels nor the predictions
            # (recounting on every page scanned every box and prediction while paging)
            self._coverage_of = self.live.run_id
            self.actions.update_coverage()
        if self.video.media_id == media_id:
            return   # frames come through _video_frame
        self.live.show(media_id, 0, str(self.project.media.path(media_id)))

    def _answer_stored(self, media_id: int, frame: int) -> None:
        if self.project.status.is_labelled(media_id, frame):
            self.actions.update_coverage()      # one more labelled picture predicted

    def _video_frame(self, index: int, image) -> None:
        media_id = self.video.media_id
        if media_id is None:
            return
        self.overlay.set_size(image.width(), image.height())
        self.live.show(media_id, index, image, self.video.player.fps)

    def _show_current(self) -> None:
        media_id = self.annotator.media_id
        if media_id is None:
            return
        if self.video.media_id == media_id:
            self.live.refresh()
        else:
            self._media_loaded(media_id)

    def _draw(self, media_id: int, frame: int, boxes: list, stale: bool) -> None:
        self._shown = (media_id, frame)
        classes = {c.id: c for c in self.project.classes.all()}
        out = []
        if self.panel.review.isChecked() and not self.project.status.is_labelled(media_id, frame):
            # not labelled yet (or needing review): nothing to judge the model against
            out = [_overlay_box(b, classes, "proposal") for b in boxes]
        elif self.panel.review.isChecked():
            thr = self.panel.threshold()
            preds = [b for b in boxes if (b.score or 0) >= thr]
            labels = self.project.boxes.labels(media_id, frame)
            m = split.frame_match(self.project, self.live.run_id, media_id, frame, thr, self.iou) \
                if not stale else None
            for b, status in zip(preds, m.pred_status if m else [None] * len(preds)):
                out.append(_overlay_box(b, classes, status))
            if m:
                out += [_overlay_box(b, classes, "fn") for b, s in zip(labels, m.label_status)
                        if s == "fn"]
        else:
            out = [_overlay_box(b, classes, None) for b in boxes]
        labelled = self.show_mode != "predictions" and self.canvas.labels_visible()
        self.overlay.set_label_shapes(self.canvas.boxes() if labelled else [])
        self.overlay.set_boxes(out, stale)

    def _stats(self, text: str) -> None:
        """The model's rate and latency: in the panel, and beside the timeline while a
        video plays (on a still picture a frame rate means nothing)."""
        self.panel.set_stats(text)
        self.video.timeline.set_info(text if self.video.player.playing else "")

    def _playing(self, on: bool) -> None:
        if not on:
            self.video.timeline.set_info("")

    def _labels_changed(self, media_ids) -> None:
        if self._shown and self._shown[0] in media_ids:
            self.live.refresh()
        self.actions.counts_changed(media_ids)

    def refresh_classes(self) -> None:
        self.panel.set_classes([(c.id, c.name, c.color) for c in self.project.classes.all()])
        self.live.remap()
        self.live.refresh()

    # -- controls ------------------------------------------------------------------
    def set_show_mode(self, mode: str) -> None:
        self.show_mode = mode
        self.canvas.set_boxes_visible(mode != "predictions")
        self.overlay.setVisible(mode != "labels")

    def _threshold(self, value: float) -> None:
        self.overlay.set_threshold(value)
        if self.panel.review.isChecked():
            self.live.refresh()
            self._recount.start()

    def _iou(self, value: float) -> None:
        self.iou = value
        if self.panel.review.isChecked():
            self.live.refresh()
            self._recount.start()

    def _review(self, on: bool) -> None:
        self.overlay.set_review(on)
        self.live.refresh()
        self.actions.resort()

    def eventFilter(self, obj, event) -> bool:
        # Double-click on a prediction accepts it (single clicks stay the canvas's).
        if event.type() == QEvent.MouseButtonDblClick and self.overlay.isVisible():
            p = self.canvas.mapToScene(event.position().toPoint())
            hit = self.overlay.box_at(p.x(), p.y())
            if hit is not None:
                self.actions.accept_ids([hit.id])
                return True
        return False

    def shutdown(self) -> None:
        """Window closing: nothing here waits for a thread."""
        self.actions.shutdown()
        self.live.stop()
        self.background.shutdown()


def _overlay_box(b, classes, status) -> OverlayBox:
    c = classes.get(b.class_id)
    return OverlayBox(b.id, b.x1, b.y1, b.x2, b.y2, b.class_id, c.name if c else "?",
                      c.color if c else "#ffffff", b.score if b.source == "predicted" else None,
                      status)
