"""The app side of one-click training: fills the Training panel with plain data,
turns its intents into runs (export off the GUI thread, the trainer as an asyncio
child process under qasync), records every event in the project and re-emits
progress as Qt signals. A crash of the trainer only ever marks its run failed.

The window docks ``panel``, asks ``confirm_close()`` before it closes (it may stop
the run, which stays resumable) and connects the document's box changes to
``data_changed``.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from app.runs import records as runs
from app.runs.lock import RunBusy, RunLock, reap_interrupted
from app.runs.data import counts, summary
from app.runs.devices import device_choices, find_devices
from app.runs.follow import follow_run
from app.runs.process import TrainerProcess
from training.hparams import HParamError, parse_overrides
from training.templates import get_template, list_templates
from widgets.training_panel import TrainingPanel

SPARE_CORES = 1  # kept free of the trainer's threads so the window stays responsive


def _prepare(root: Path, template: str, overrides: dict, task: str, device: str, gpus: int,
             customise=None):
    """Export + record a run on a worker thread, with its own SQLite connection;
    ``customise(project, launch)`` may then adjust the run before it starts."""
    from app.store.project import Project

    with Project.open(root) as project:
        launch = runs.prepare_run(project, template, overrides, task=task, device=device, gpus=gpus)
        if customise is not None:
            customise(project, launch)
        return launch


class TrainingController(QObject):
    run_started = Signal(int)
    run_finished = Signal(int, str)         # run id, status
    active_run_changed = Signal(int)
    event_received = Signal(int, dict)      # run id, trainer event (after it is recorded)
    _devices_found = Signal(list)           # from the GPU-probing thread (queued)

    def __init__(self, host, project, *, ask_stop: Callable[[str], bool] | None = None,
                 probe_devices: bool = True):
        super().__init__(host)
        self.project = project
        self.host = host          # dialogs open over it
        # The close question; tests inject an answer. True = stop the run and close.
        self.ask_stop = ask_stop or self._ask_stop_box
        self.cancel_grace_s = 20.0
        self.process: TrainerProcess | None = None
        self.run_id: int | None = None      # the run being prepared or trained
        self.shown_run: int | None = None   # whose charts the panel shows
        self._tasks: set[asyncio.Future] = set()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kestrel-export")
        self._base: dict = {"images": 0, "boxes": 0, "boxes_per_class": {}}
        self._values: dict[str, str] = {}

        self._recount = QTimer(self, singleShot=True, interval=500)  # edits come in bursts
        self._recount.timeout.connect(lambda: self.panel.isVisible() and self.refresh())
        self.panel = panel = TrainingPanel()
        panel.setObjectName("training_panel")
        panel.values_changed.connect(self._values_changed)
        panel.train_requested.connect(self.train)
        panel.cancel_requested.connect(self.cancel)
        panel.resume_requested.connect(self.resume)
        panel.open_run_requested.connect(self.open_run)
        panel.use_run_requested.connect(self.use_run)
        panel.installEventFilter(self)
        panel.set_devices(device_choices([]))
        self._devices_found.connect(panel.set_devices)
        if probe_devices:
            find_devices(self._devices_found.emit)
        panel.set_templates([s.describe() for s in list_templates()])
        self.refresh()

    # -- data for the panel --------------------------------------------------------------
    def refresh(self) -> None:
        """Re-count the data and reload the history (call after labels change)."""
        self._base = counts(self.project)
        self.panel.set_summary(summary(self._base, self._values or self.panel.form.values()))
        self.refresh_history()

    def data_changed(self, *_args) -> None:
        """Labels changed (connect the document's change signals): re-count soon, once."""
        self._recount.start()

    def refresh_history(self) -> None:
        reap_interrupted(self.project)   # runs a crashed window or command left "running"
        self.panel.set_history([runs.run_row(self.project, r) for r in reversed(self.project.runs.all())])

    def _values_changed(self, values: dict) -> None:
        self._values = values
        self.panel.set_summary(summary(self._base, values))

    def eventFilter(self, obj, event) -> bool:
        if obj is self.panel and event.type() == QEvent.Show and not self.is_training():
            self.refresh()  # labels may have changed while the panel was hidden
        return False

    # -- intents ---------------------------------------------------------------------------
    def train(self, template: str, overrides: dict, device: str, gpus: int = 1,
              customise=None) -> bool:
        """Validate, then export and start a new run (asynchronously); False when it
        was refused (the panel says why). ``customise`` (project, RunLaunch), called on
        the export thread after the export, lets a feature adjust the run first (Label
        next's cross-check marks its fold)."""
        if self.is_training():
            self.panel.show_error("a run is already training")
            return False
        try:
            spec = get_template(template)
            parse_overrides(spec.hparams(), [f"{k}={v}" for k, v in overrides.items()])
        except (KeyError, HParamError) as exc:
            self.panel.show_error(str(exc).strip('"'))
            return False
        return self._spawn(self._train(spec.name, spec.task, dict(overrides), device, gpus,
                                       customise))

    async def _train(self, template: str, task: str, overrides: dict, device: str, gpus: int,
                     customise=None) -> None:
        self.panel.set_busy(True, "exporting the dataset…")
        self.run_id = -1  # busy: a second Train is refused until this one has an id
        loop = asyncio.get_running_loop()
        try:
            launch = await loop.run_in_executor(self._executor, _prepare, self.project.root,
                                                template, overrides, task, device, gpus,
                                                customise)
        except Exception as exc:
            self.run_id = None
            self.panel.set_busy(False)
            self.panel.show_error(f"could not prepare the run: {exc}")
            self.refresh_history()
            return
        await self._follow(launch.run_id, launch.argv, f"#{launch.run_id} {template}",
                           lock=launch.lock)

    def resume(self, run_id: int) -> None:
        if self.is_training():
            self.panel.show_error("a run is already training")
            return
        run = self.project.runs.get(run_id)
        device, gpus = self.panel.current_device()
        try:
            launch = runs.prepare_resume(self.project, run_id, device=device, gpus=gpus)
        except RunBusy as exc:
            self.panel.show_error(str(exc))
            return
        self.run_id = run_id
        self._spawn(self._follow(run_id, launch.argv, f"#{run_id} {run.template} (resumed)",
                                 resumed=True, lock=launch.lock))

    def cancel(self) -> None:
        if self.process is not None and self.process.cancel():
            self.panel.status.setText("stopping: the trainer saves a checkpoint…")

    def open_run(self, run_id: int) -> None:
        """Draw a recorded run's charts and log again."""
        run = self.project.runs.get(run_id)
        self.shown_run = run_id
        self.panel.replay(f"#{run.id} {run.template} ({run.status})", runs.events_of(self.project, run_id))
        if not self.is_training():
            row = runs.run_row(self.project, run)
            self.panel.set_resumable(run_id if row["resumable"] else None)

    def use_run(self, run_id: int) -> None:
        """Make a run's model the one predictions use."""
        if runs.model_path(self.project, run_id) is None:
            self.panel.show_error(f"run #{run_id} has no checkpoint")
            return
        self.project.settings.set("active_run", str(run_id))
        self.refresh_history()
        self.panel.status.setText(f"run #{run_id} is now the active model")
        self.active_run_changed.emit(run_id)

    def active_run(self) -> int | None:
        value = self.project.settings.get("active_run")
        return int(value) if value and value.isdigit() else None

    # -- one child process -----------------------------------------------------------------
    async def _follow(self, run_id: int, argv: list[str], title: str, resumed: bool = False,
                      lock: RunLock | None = None) -> None:
        """Run the trainer and fold its events in (app.runs.follow, as the CLI does)."""
        self.run_id = self.shown_run = run_id
        self.panel.set_resumable(None)
        self.panel.run_started(run_id, title)
        if resumed:
            self.panel.replay(title, runs.events_of(self.project, run_id))
        self.panel.append_log("$ " + " ".join(argv))
        self.run_started.emit(run_id)

        def started(process) -> None:
            self.process = process
        try:
            status = await follow_run(
                self.project, run_id, argv, runs.child_env(spare_cores=SPARE_CORES), lock=lock,
                cancel_grace_s=self.cancel_grace_s, on_start=started,
                on_event=lambda e: self._on_event(run_id, e),
                on_log=lambda lines: self._on_log(run_id, lines),
                on_record_error=self.panel.append_log)
        finally:
            self.process, self.run_id = None, None
        run = self.project.runs.get(run_id)
        self.panel.run_ended(status, (run.message or "").split("\n")[0])
        self.refresh()
        row = runs.run_row(self.project, run)
        self.panel.set_resumable(run_id if row["resumable"] else None)
        self.run_finished.emit(run_id, status)

    def _on_event(self, run_id: int, event: dict) -> None:
        if self.shown_run == run_id:
            self.panel.show_event(event)
        else:
            self.panel.show_progress(event)
        self.event_received.emit(run_id, event)

    def _on_log(self, run_id: int, lines: list[str]) -> None:
        if self.shown_run == run_id:
            self.panel.append_log("\n".join(lines))

    def _spawn(self, coro) -> bool:
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            loop = None
        if loop is None or not loop.is_running():
            coro.close()
            self.panel.show_error("training needs the application's asyncio (qasync) event loop")
            return False
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return True

    def _task_done(self, task: asyncio.Future) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            if self.process is None:
                self.run_id = None
            self.panel.set_busy(False)
            self.panel.show_error(f"training error: {type(exc).__name__}: {exc}")

    # -- closing ---------------------------------------------------------------------------
    def is_training(self) -> bool:
        return self.run_id is not None

    def confirm_close(self) -> bool:
        """True if the window may close: no run, or the user chose to stop it (the
        trainer then saves a resumable checkpoint before we return)."""
        if not self.is_training():
            return True
        what = "A run is being prepared" if self.run_id == -1 else f"Run #{self.run_id} is training"
        if not self.ask_stop(f"{what}. Stop it (it stays resumable) and close?"):
            return False
        self.stop_and_wait()
        return True

    def stop_and_wait(self, timeout_s: float | None = None) -> None:
        """Cancel and keep the event loop turning until the run has ended."""
        deadline = time.monotonic() + (timeout_s or self.cancel_grace_s + 10)
        while self.is_training() and time.monotonic() < deadline:
            self.cancel()
            QCoreApplication.processEvents(QEventLoop.AllEvents, 50)
            time.sleep(0.01)

    def _ask_stop_box(self, text: str) -> bool:
        answer = QMessageBox.question(self.host, "Training in progress", text,
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes
