"""Cross-checking every label from the window: the k fold runs of ``app.next.folds``,
launched one after another by the Training tab's controller (each shows there live),
each with its fold marked as the validation split before its trainer starts. When the
last one has finished, every labelled picture has a model that never saw it, and the
label errors are looked for again."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.next import folds


class CrossCheck(QObject):
    message = Signal(str)
    done = Signal()

    def __init__(self, project, training, run_id: int, k: int, parent: QObject | None = None):
        super().__init__(parent)
        self.project, self.training, self.run_id, self.k = project, training, run_id, k
        self.current: int | None = None          # the fold being trained
        self.ours: set[int] = set()
        self._asked = False
        self.waiting = False                     # for another run to end
        training.run_started.connect(self._started)
        training.run_finished.connect(self._finished)

    def todo(self) -> list[int]:
        done = {r.dataset.get("fold") for r in folds.folds_of(self.project, self.run_id)
                if r.status == "finished" and r.dataset.get("folds") == self.k}
        return [f for f in range(self.k) if f not in done]

    def start(self) -> None:
        left = self.todo()
        if not left:
            self.message.emit(f"all {self.k} folds of #{self.run_id} are trained")
            self.done.emit()
            return
        if self.training.is_training():
            self.waiting = True
            self.message.emit("a run is training: the cross-check starts when it ends")
            return
        fold, parent, k = left[0], self.run_id, self.k
        run = self.project.runs.get(parent)
        device, gpus = self.training.panel.current_device()

        def customise(project, launch) -> None:     # on the export thread
            folds.customise_fold(project, launch.run_id, launch.run_dir, parent, fold, k)
        self.current, self._asked = fold, True
        self.message.emit(f"cross-check: training fold {fold + 1} of {k} (Training tab)…")
        if not self.training.train(run.template, dict(run.hyperparameters), device, gpus,
                                   customise=customise):
            self._asked = False
            self.message.emit("cross-check: the run was refused (see the Training tab)")

    def _started(self, run_id: int) -> None:
        if self._asked:
            self._asked = False
            self.ours.add(run_id)

    def _finished(self, run_id: int, status: str) -> None:
        if run_id not in self.ours:
            if self.waiting:           # someone else's run was in the way
                self.waiting = False
                self.start()
            return
        if status != "finished":
            self.message.emit(f"cross-check stopped: fold run #{run_id} {status}")
            self.current = None
            return
        self.start()
