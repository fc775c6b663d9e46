"""Keep training: after every K new labelled pictures, fine-tune the active model in
the background and make the result active only if it is not worse
(``app.next.chain`` says how; this is the Qt side).

The run is launched by the Training tab's controller (``TrainingController.train``),
so it shows there live like any run and nothing else trains meanwhile. When it
finishes, the two models are evaluated on the same fair set, each in a child
process (``python -m training eval``), one after the other; the verdict is recorded
in the new run and, if it is not worse, the new run becomes the active model
(``TrainingController.use_run``, which every model user follows).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from app.next import chain
from app.next.process import JsonProcess
from app.runs.records import child_env

SETTINGS = ("next/keep_training", "next/retrain_every", "next/retrain_epochs")
CHECK_MS = 2000          # labels come in bursts: count again this long after the last


class KeepTraining(QObject):
    message = Signal(str)
    chain_changed = Signal(str)            # one line for the panel

    def __init__(self, project, training, worker, parent: QObject | None = None):
        """``training``: the TrainingController; ``worker``: a ProjectWorker."""
        super().__init__(parent)
        self.project, self.training, self.worker = project, training, worker
        get = project.settings.get
        self.on = get(SETTINGS[0], "0") == "1"
        self.every = int(get(SETTINGS[1], "50") or 50)
        self.epochs = int(get(SETTINGS[2], "4") or 4)
        self.pending_parent: int | None = None      # a fine-tune asked for, not started yet
        self.runs: dict[int, int] = {}              # our fine-tunes: run id → parent run id
        self.evaluator = JsonProcess(self)
        self._timer = QTimer(self, singleShot=True, interval=CHECK_MS)
        self._timer.timeout.connect(self.check)
        training.run_started.connect(self._started)
        training.run_finished.connect(self._finished)

    def configure(self, on: bool, every: int, epochs: int) -> None:
        self.on, self.every, self.epochs = bool(on), max(1, int(every)), max(1, int(epochs))
        for key, value in zip(SETTINGS, ("1" if self.on else "0", str(self.every), str(self.epochs))):
            self.project.settings.set(key, value)
        if self.on:
            self.check()
        else:
            self.chain_changed.emit("")

    def labels_changed(self, *_args) -> None:
        if self.on:
            self._timer.start()

    # -- when ----------------------------------------------------------------------------
    def check(self) -> None:
        """Count the labelled pictures the active model has not trained on (worker)."""
        parent = self.training.active_run()
        if self.pending_parent is not None and not self.training.is_training():
            self.pending_parent = None     # its export failed (the Training tab says why)
        if not self.on or parent is None:
            if self.on:
                self.chain_changed.emit("Keep training waits for an active model: train one "
                                        "in the Training tab.")
            return

        def count(project, run_id):
            return chain.new_labelled(project, project.runs.get(run_id))
        self.worker.submit(count, parent, done=lambda n: self._counted(parent, n), key="chain")

    def _counted(self, parent: int, n: int) -> None:
        if not self.on or parent != self.training.active_run():
            return
        busy = self.training.is_training() or self.evaluator.running() or self.pending_parent
        if n >= self.every and not busy:
            self.start(parent, n)
        else:
            self.chain_changed.emit(f"Keep training: {n} new labelled picture(s) since #{parent}; "
                                    f"a fine-tune starts at {self.every}.")

    def start(self, parent: int, new_labels: int) -> None:
        try:
            overrides = chain.fine_tune_overrides(self.project, parent, self.epochs)
        except ValueError as exc:
            self.message.emit(f"keep training: {exc}")
            return
        run = self.project.runs.get(parent)
        self.pending_parent = parent
        self._new_labels = new_labels
        device, gpus = self.training.panel.current_device()
        self.message.emit(f"keep training: fine-tuning #{parent} with {new_labels} new labelled "
                          "pictures (Training tab)")
        if not self.training.train(run.template, overrides, device, gpus):
            self.pending_parent = None               # refused: the Training tab says why

    # -- a fine-tune of ours ----------------------------------------------------------------
    def _started(self, run_id: int) -> None:
        if self.pending_parent is None:
            return
        parent, self.pending_parent = self.pending_parent, None
        self.runs[run_id] = parent
        chain.record(self.project, run_id, parent, new_labels=self._new_labels)
        self.training.refresh_history()
        self.chain_changed.emit(chain.describe(self.project, run_id) + " (training…)")

    def _finished(self, run_id: int, status: str) -> None:
        parent = self.runs.get(run_id)
        if parent is None:
            return
        if status != "finished":
            chain.record(self.project, run_id, parent, verdict="kept", note=f"run {status}")
            self.chain_changed.emit(f"#{run_id} {status}: #{parent} stays the active model")
            return
        self.chain_changed.emit(f"#{run_id} finished: comparing it with #{parent}…")
        self.worker.submit(lambda p: chain.write_comparison(p, parent, run_id),
                           done=lambda made: self._compare(run_id, parent, made))

    def _compare(self, child: int, parent: int, made) -> None:
        if made is None or made[1] == 0:
            # nothing both models never trained on: the new one holds more labels
            self._decide(child, parent, None, None, 0, "no pictures neither model trained on")
            return
        coco, n = made
        order, scores, at = [parent, child], {}, [0]

        def run_next() -> None:
            self.evaluator.start(chain.eval_argv(self.project, order[at[0]], coco,
                                                 chain.images_dir(self.project, child)),
                                 child_env(spare_cores=1))

        def on_event(event: dict) -> None:
            if event.get("event") == "metrics":
                scores[order[at[0]]] = event.get("map")

        def on_end(code: int, tail: str) -> None:
            scores.setdefault(order[at[0]], None)     # could not evaluate (classes changed…)
            at[0] += 1
            if at[0] < len(order):
                run_next()
                return
            self.evaluator.event.disconnect(on_event)
            self.evaluator.ended.disconnect(on_end)
            why = tail.strip().splitlines()[-1] if tail.strip() else f"exit code {code}"
            self._decide(child, parent, scores[child], scores[parent], n,
                         "" if scores[parent] is not None else
                         f"#{parent} could not be evaluated on the new data ({why})")
        self.evaluator.event.connect(on_event)
        self.evaluator.ended.connect(on_end)
        run_next()

    def _decide(self, child: int, parent: int, child_map, parent_map, n: int, note: str) -> None:
        better = parent_map is None or (child_map is not None and child_map >= parent_map - 1e-9)
        chain.record(self.project, child, parent, map=child_map, parent_map=parent_map,
                     compared_on=n, verdict="active" if better else "kept", note=note)
        if better:
            self.training.use_run(child)
        else:
            self.training.refresh_history()
        text = chain.describe(self.project, child)
        self.chain_changed.emit(text)
        self.message.emit(f"keep training: {text}")

    def shutdown(self) -> None:
        self._timer.stop()
        self.evaluator.detach()
