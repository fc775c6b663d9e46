"""LabelNextController: the Label next dock, key N, the browser's "most useful to
label next" order, pre-labels, keep training, probable label errors, near-duplicates.

Scoring runs in a child process (``app.next.job``; torch never loads in the window),
followed with QProcess; the queue is ranked, suspects and near-duplicates found on a
``ProjectWorker`` thread (numpy and SQLite only), so the GUI thread only draws. The
queue follows the labels: a few seconds after edits it is ranked again (cheap: the
model's scores are cached per model), and the job scores only what it has not.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from app.next import job
from app.next.duplicates import find_duplicates
from app.next.prelabels import Prelabels
from app.next.process import JsonProcess
from app.next.ranking import build_queue
from app.next.retrain import KeepTraining
from app.next.suspects import find_suspects
from app.runs.records import child_env
from app.tasks.worker import ProjectWorker
from widgets.actions import make_action
from widgets.canvas.highlight import RegionHighlight
from widgets.next_panel import NextPanel

RANK_MS = 1500        # after label edits, rank again this long after the last one
SHOWN = 100           # queue items listed in the panel


class LabelNextController(QObject):
    message = Signal(str)
    problem = Signal(str, str)
    open_requested = Signal(int)         # media id: the window opens it

    def __init__(self, project, doc, annotator, video, browser, review, training,
                 embedder_run=lambda: None, parent: QObject | None = None):
        """``video``, ``browser``, ``review``, ``training``: the peer controllers it
        drives; ``embedder_run()``: the embedder run chosen in the Search tab, if any."""
        super().__init__(parent)
        self.project, self.doc, self.annotator = project, doc, annotator
        self.video, self.browser, self.review, self.training = video, browser, review, training
        self.embedder_run = embedder_run
        self.panel = NextPanel()
        self.worker = ProjectWorker(project.root, self, "kestrel-next",
                                    on_error=lambda text: self.message.emit(f"label next: {text}"))
        self.scoring = JsonProcess(self)
        self.prelabels = Prelabels(project, doc, annotator, review, self)
        self.keep = KeepTraining(project, training, self.worker, self)
        self.highlight = RegionHighlight()
        annotator.canvas.add_overlay(self.highlight)
        self.queue = None
        self.source: str | None = None       # where the last scoring took features from
        self.wanted = False                  # the user has asked for the queue
        self.suspects: list = []
        self._visited: set[tuple[int, int]] = set()
        self._then = None                    # what to do once the queue is ranked
        self._rescore = False
        self._rank_timer = QTimer(self, singleShot=True, interval=RANK_MS)
        self._rank_timer.timeout.connect(self.rank)
        self._wire()

    def _wire(self) -> None:
        q, s, d = self.panel.queue, self.panel.suspects, self.panel.duplicates
        q.next_requested.connect(self.label_next)
        q.item_activated.connect(self.open_item)
        q.score_requested.connect(lambda: self.ensure_scored(force=True))
        q.cancel_requested.connect(self.scoring.cancel)
        q.prelabels_toggled.connect(self.prelabels.set_enabled)
        q.prelabels.setChecked(self.prelabels.enabled)
        q.keep_training_changed.connect(self.keep.configure)
        q.set_keep_training(self.keep.on, self.keep.every, self.keep.epochs)
        s.find_requested.connect(self.find_suspects)
        s.crosscheck_requested.connect(self.cross_check)
        s.suspect_activated.connect(self.show_suspect)
        d.find_requested.connect(self.find_duplicates)
        d.keep_together_toggled.connect(self.keep_groups)
        d.media_activated.connect(lambda m: self.open_item(m, 0))
        d.set_keep(bool(self.project.next.groups()))
        self.scoring.event.connect(self._scoring_event)
        self.scoring.ended.connect(self._scoring_ended)
        self.prelabels.message.connect(self.message)
        self.keep.message.connect(self.message)
        self.keep.chain_changed.connect(q.set_chain)
        self.browser.next_wanted.connect(self._browser_wants)
        self.doc.boxes_changed.connect(self.labels_changed)
        self.training.active_run_changed.connect(lambda _r: self.model_changed())
        self.review.panel.run_picked.connect(lambda _r: QTimer.singleShot(0, self.model_changed))
        self.annotator.media_loaded.connect(self._picture_changed)
        self.video.player.frame_shown.connect(lambda _f: self._picture_changed())

    def actions(self, parent) -> dict:
        accept = make_action(parent, "Accept the model's &proposals", self.prelabels.accept_all,
                             ["Return", "Enter"])
        # Enter is the canvas's only: in a field, a spin box or a list it commits or opens
        accept.setShortcutContext(Qt.WidgetShortcut)
        self.annotator.canvas.addAction(accept)
        return {"label_next": make_action(parent, "&Label next", self.label_next, "N"),
                "accept_proposals": accept,
                "find_suspects": make_action(parent, "Find probable label &errors",
                                             self.find_suspects),
                "near_duplicates": make_action(parent, "Find near-&duplicates",
                                               lambda: self.find_duplicates(
                                                   self.panel.duplicates.threshold.value()))}

    @property
    def run_id(self) -> int | None:
        return self.review.live.run_id

    # -- scoring (a child process) -----------------------------------------------------------
    def ensure_scored(self, force: bool = False) -> None:
        """Start the scoring job for the active model (it does only what is missing)."""
        self.wanted = True
        if self.scoring.running():
            self._rescore = True             # the model or the media changed meanwhile
            return
        embedder = self.embedder_run()
        if embedder is not None and not _has_checkpoint(self.project, embedder):
            embedder = None
        self._job = (self.run_id, embedder)
        self.panel.queue.set_busy(0, 0, "scoring")
        self.scoring.start(job.argv(self.project.root, self.run_id, embedder),
                           child_env(spare_cores=1))
        if force:
            self.message.emit("scoring the project in the background…")

    def _scoring_event(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "progress":
            self.panel.queue.set_busy(event["done"], event["total"], "scoring")
        elif kind == "finished":
            self.source = event.get("source")
        elif kind == "failed":
            self.problem.emit("Label next: scoring failed", event.get("message", ""))

    def _scoring_ended(self, code: int, tail: str) -> None:
        self.panel.queue.set_idle()
        if code not in (0, 2) and tail:
            self.message.emit(f"label next: scoring stopped ({tail.splitlines()[-1]})")
        if self._rescore:
            self._rescore = False
            self.ensure_scored()
            return
        if self._job[0] == self.run_id:
            self.rank()

    # -- the queue -------------------------------------------------------------------------------
    def rank(self, then=None) -> None:
        """Rank again on the worker (the newest request wins)."""
        if then is not None:
            self._then = then
        if self.source is None:
            if not self.scoring.running():
                self.ensure_scored()
            return
        run_id, source = self.run_id, self.source
        if source.startswith("run:") and source != f"run:{run_id}":
            self.ensure_scored()             # scored for another model: score this one first
            return
        self.worker.submit(lambda p: build_queue(p, run_id, source), done=self._ranked,
                           key="queue")

    def _ranked(self, queue) -> None:
        self.queue = queue
        items = [i for i in queue.items if i.key not in self._visited] or queue.items
        self.panel.queue.set_items([(i.media_id, i.frame, i.text()) for i in items[:SHOWN]])
        how = (f"model #{queue.run_id}" if not queue.cold
               else "no model yet: diversity alone (cold start)")
        self.panel.queue.set_status(
            f"{queue.candidates} pictures not labelled, {queue.labelled} labelled; {how}. "
            f"Ranked {queue.scored} by how much labelling them would help"
            + (f" ({queue.candidates - queue.scored} not scored yet)"
               if queue.scored < queue.candidates else "") + ". N opens the next one.")
        if self.browser.order == "next":
            self.browser.set_next_ranking(queue.media_ranking())
        then, self._then = self._then, None
        if then is not None:
            then()

    def labels_changed(self, _media_ids=()) -> None:
        self.keep.labels_changed()
        if self.queue is not None:
            self._rank_timer.start()

    def model_changed(self) -> None:
        self.prelabels.model_changed()
        self.queue = None
        if self.wanted:
            self.ensure_scored()

    def media_added(self) -> None:
        """New media were imported: score them (only them) if the queue is in use."""
        if self.wanted:
            self.ensure_scored()

    def _browser_wants(self) -> None:
        if self.queue is not None:
            self.browser.set_next_ranking(self.queue.media_ranking())
        self.wanted = True
        self.rank()

    def label_next(self) -> None:
        """N: open the most useful picture not labelled yet."""
        self.wanted = True
        if self.queue is None:
            self.message.emit("ranking the pictures not labelled yet…")
            self.rank(then=self.label_next)
            return
        here = (self.annotator.media_id, self.annotator.frame)
        for item in self.queue.items:
            if item.key in self._visited or item.key == here:
                continue
            if self.project.status.of(*item.key) != "unlabelled":
                continue
            self._visited.add(item.key)
            self.open_item(*item.key)
            why = f" (uncertainty {item.score:.2f}, {item.reason})" if item.score is not None else ""
            self.message.emit(f"label next: {item.name}{why}")
            return
        if self.scoring.running():
            self.message.emit("still scoring: the queue grows as pictures are scored")
        else:
            self._visited.clear()
            self.message.emit("nothing left to label in the queue" if self.queue.candidates == 0
                              else "went through the queue; N starts it again")

    def open_item(self, media_id: int, frame: int = 0) -> None:
        self.prelabels.expect(media_id, frame)
        self.open_requested.emit(media_id)
        if frame and self.video.media_id == media_id:
            self.video.player.request(frame)

    # -- probable label errors -----------------------------------------------------------------
    def find_suspects(self) -> None:
        run_id = self.run_id
        if run_id is None:
            self.message.emit("label errors need a model: train one, or choose one in Predictions")
            return
        self.panel.suspects.set_busy(True)
        self.panel.suspects.set_status("looking for labels the model disagrees with…")
        self.worker.submit(lambda p: find_suspects(p, run_id), key="suspects",
                           done=lambda r: self._suspects_found(run_id, *r))

    def _suspects_found(self, run_id: int, suspects, checked: int, missing: int) -> None:
        if missing and not getattr(self, "_predicting", False):
            self._predicting = True          # predict the held-out pictures first
            self.panel.suspects.set_status(f"predicting {missing} held-out pictures…")
            self._held_out = JsonProcess(self)
            self._held_out.ended.connect(lambda *_a: self._held_out_done())
            self._held_out.start(job.argv(self.project.root, run_id) + ["--held-out"],
                                 child_env(spare_cores=1))
            return
        self._predicting = False
        self.panel.suspects.set_busy(False)
        self.suspects = suspects
        names = {m.id: m.name for m in self.project.media.list()}
        self.panel.suspects.set_suspects([
            f"{s.weight:.2f}  {names.get(s.media_id, s.media_id)}"
            + (f" frame {s.frame}" if s.frame else "") + f": {s.text}" for s in suspects])
        self.panel.suspects.set_status(
            f"{len(suspects)} probable errors on {checked} labelled pictures the model did not "
            "train on" + ("" if checked else ": none yet (train a model with a validation split, "
                          "or cross-check)"))

    def _held_out_done(self) -> None:
        self.find_suspects()

    def show_suspect(self, index: int) -> None:
        if not 0 <= index < len(self.suspects):
            return
        s = self.suspects[index]
        self.open_item(s.media_id, s.frame)
        self._suspect = (s.media_id, s.frame)
        w, h = self.annotator.canvas.image_size()
        self.highlight.set_size(w, h)
        self.highlight.set_region(s.rect, s.text)

    def _picture_changed(self, *_args) -> None:
        here = (self.annotator.media_id, self.annotator.frame)
        if self.highlight.region is not None and here != getattr(self, "_suspect", None):
            self.highlight.clear()

    def cross_check(self, folds: int) -> None:
        from app.next.crosscheck import CrossCheck

        if self.run_id is None:
            self.message.emit("cross-checking needs a model to take the template from")
            return
        self._cross = CrossCheck(self.project, self.training, self.run_id, folds, self)
        self._cross.message.connect(self.panel.suspects.set_status)
        self._cross.done.connect(self.find_suspects)
        self._cross.start()

    # -- near-duplicates -------------------------------------------------------------------------
    def find_duplicates(self, threshold: float) -> None:
        if self.source is None:
            self.panel.duplicates.set_status("scoring the project first (its features tell "
                                             "images apart)…")
            self.rank(then=lambda: self.find_duplicates(threshold))
            return
        source = self.source
        self.panel.duplicates.set_busy(True)
        self.worker.submit(lambda p: find_duplicates(p, source, threshold), key="duplicates",
                           done=lambda groups: self._duplicates_found(groups, threshold))

    def _duplicates_found(self, groups, threshold: float) -> None:
        self.panel.duplicates.set_busy(False)
        self.duplicate_groups = groups
        names = {m.id: m.name for m in self.project.media.list()}
        self.panel.duplicates.set_groups([[(m, names.get(m, str(m))) for m in g] for g in groups])
        n = sum(len(g) for g in groups)
        self.panel.duplicates.set_status(f"{len(groups)} groups ({n} images) at similarity ≥ "
                                         f"{threshold:.3f}.")
        if self.panel.duplicates.keep.isChecked():
            self.keep_groups(True)

    def keep_groups(self, on: bool) -> None:
        groups = getattr(self, "duplicate_groups", None) if on else []
        if on and groups is None:
            self.message.emit("find near-duplicates first")
            return
        n = self.project.next.set_groups(groups or [])
        self.message.emit(f"{n} near-duplicate groups are kept on one side of training splits"
                          if on else "near-duplicate groups no longer constrain the split")

    # -- lifetime -------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Window closing: nothing here waits."""
        self.scoring.detach()
        if getattr(self, "_held_out", None) is not None:
            self._held_out.detach()
        self.keep.shutdown()
        self.worker.shutdown()


def _has_checkpoint(project, run_id: int) -> bool:
    try:
        from app.search.embeddings import run_checkpoint

        run_checkpoint(project, run_id)
        return True
    except Exception:
        return False

