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
from typing import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from app.cluster.connect import ClusterError
from app.runs import records as runs
from app.runs.cluster import ClusterTarget, compute_of
from app.runs.off_thread import fetch_at, prepare_at, submit_resume_at
from app.runs.compute import ComputeChoice
from app.runs.lock import RunBusy, RunLock, reap_interrupted
from app.runs.data import counts, summary
from app.runs.devices import device_choices, find_devices
from app.runs.first_click import FirstClick
from app.runs.follow import follow_run
from app.runs.process import TrainerProcess
from app.store.repos.base import StoreError
from app.runs.ray_follow import RayJobFollower
from training.hparams import HParamError, parse_overrides
from training.templates import get_template
from widgets.training_panel import TrainingPanel

SPARE_CORES = 1  # kept free of the trainer's threads so the window stays responsive


class TrainingController(QObject):
    run_started = Signal(int)
    run_finished = Signal(int, str)         # run id, status
    active_run_changed = Signal(int)
    event_received = Signal(int, dict)      # run id, trainer event (after it is recorded)
    _devices_found = Signal(list)           # from the GPU-probing thread (queued)

    def __init__(self, host, project, *, weights=None,
                 ask_stop: Callable[[str], bool] | None = None,
                 ask_random_start: Callable[[str], bool] | None = None,
                 probe_devices: bool = True):
        super().__init__(host)
        self.project, self.host = project, host   # dialogs open over the host
        # The close question; tests inject an answer. True = stop the run and close.
        self.ask_stop = ask_stop or self._ask_stop_box
        self.cancel_grace_s = 20.0
        self.process: TrainerProcess | RayJobFollower | None = None
        self.run_id: int | None = None      # the run being prepared or trained
        self.shown_run: int | None = None   # whose charts the panel shows
        self._tasks: set[asyncio.Future] = set()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kestrel-export")
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
        self._base: dict = counts(self.project)
        self.first_click = first = FirstClick(panel, project, host, weights, ask_random_start)
        panel.set_templates(first.template_rows())
        first.preselect(self._base["boxes"])
        panel.template_changed.connect(first.template_picked)
        panel.device_changed.connect(
            lambda d: first.device_changed(d, self._base["boxes"], self.is_training()))
        self._devices_found.connect(panel.set_devices)
        if weights is not None:
            weights.changed.connect(first.weights_changed)
        if probe_devices:
            find_devices(self._devices_found.emit)
        self.compute = ComputeChoice(panel.compute, project, self)
        self.refresh()
        if self._waiting_cluster_runs():   # the project reopened: follow them again
            QTimer.singleShot(0, self, self.follow_cluster_runs)   # once the loop turns

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
        try:
            target = self.compute.target()
        except ClusterError as exc:
            self.panel.show_error(str(exc))
            return False
        if not self.first_click.start_accepted(spec, overrides.get("pretrained")):
            return False
        return self._spawn(self._train(spec.name, spec.task, dict(overrides), device, gpus,
                                       target, customise))

    async def _train(self, template: str, task: str, overrides: dict, device: str, gpus: int,
                     target: ClusterTarget | None = None, customise=None) -> None:
        self.panel.set_busy(True, "exporting the dataset…" if target is None else
                           f"exporting the dataset and sending it to {target.address}…")
        self.run_id = -1  # busy: a second Train is refused until this one has an id
        loop = asyncio.get_running_loop()
        try:
            launch, job = await loop.run_in_executor(self._executor, prepare_at, self.project.root,
                                                     template, overrides, task, device, gpus,
                                                     target, customise)
        except Exception as exc:
            self.run_id = None
            self.panel.set_busy(False)
            self.panel.show_error(f"could not prepare the run: {exc}")
            self.refresh_history()
            return
        cluster = (target.address, job) if job else None
        await self._follow(launch.run_id, launch.argv, f"#{launch.run_id} {template}",
                           lock=launch.lock, cluster=cluster)

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
        title = f"#{run_id} {run.template} (resumed)"
        compute = compute_of(run)
        if compute is None:
            self._spawn(self._follow(run_id, launch.argv, title, resumed=True, lock=launch.lock))
            return
        # a cluster run resumes on the cluster it ran on, its checkpoint sent along
        target = ClusterTarget(compute["address"], workers=compute.get("workers", 2),
                               storage=compute.get("storage"))
        self._spawn(self._resume_cluster(run_id, target, title, launch.lock))

    async def _resume_cluster(self, run_id: int, target: ClusterTarget, title: str, lock) -> None:
        self.panel.set_busy(True, f"sending run #{run_id} back to {target.address}…")
        loop = asyncio.get_running_loop()
        try:
            job = await loop.run_in_executor(self._executor, submit_resume_at, self.project.root,
                                             run_id, target)
        except Exception as exc:
            lock.release()
            self.run_id = None
            self.panel.set_busy(False)
            self.panel.show_error(f"could not resume the run: {exc}")
            self.refresh_history()
            return
        await self._follow(run_id, [], title, resumed=True, lock=lock, cluster=(target.address, job))

    def _waiting_cluster_runs(self) -> bool:
        return any(r.status == "running" and compute_of(r) for r in self.project.runs.all())

    def follow_cluster_runs(self) -> None:
        """Follow a cluster run again that nobody follows (the project was reopened, or
        its window closed): its job went on without us."""
        if self.is_training():
            return
        try:
            runs_now = list(reversed(self.project.runs.all()))
        except StoreError:   # the project was closed meanwhile
            return
        for run in runs_now:
            compute = compute_of(run)
            if run.status != "running" or compute is None:
                continue
            try:
                lock = RunLock(self.project.resolve(run.run_dir))
            except RunBusy:
                continue   # another window or `kestrel train --follow` has it
            self.run_id = run.id
            self._spawn(self._follow(run.id, [], f"#{run.id} {run.template} (on the cluster)",
                                     resumed=True, lock=lock,
                                     cluster=(compute["address"], compute["job_id"])))
            return

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
        """Make a run's model the one predictions use (downloading it first when the
        run kept its checkpoints on cluster storage)."""
        if runs.model_path(self.project, run_id) is None:
            if runs.run_row(self.project, self.project.runs.get(run_id))["has_model"]:
                self._spawn(self._download_and_use(run_id))
                return
            self.panel.show_error(f"run #{run_id} has no checkpoint")
            return
        self._make_active(run_id)

    async def _download_and_use(self, run_id: int) -> None:
        self.panel.status.setText(f"downloading run #{run_id}'s checkpoints from cluster storage…")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, fetch_at, self.project.root, run_id)
        except Exception as exc:
            self.panel.show_error(str(exc))
            return
        self._make_active(run_id)

    def _make_active(self, run_id: int) -> None:
        self.project.settings.set("active_run", str(run_id))
        self.refresh_history()
        self.panel.status.setText(f"run #{run_id} is now the active model")
        self.active_run_changed.emit(run_id)

    def active_run(self) -> int | None:
        value = self.project.settings.get("active_run")
        return int(value) if value and value.isdigit() else None

    # -- one child process -----------------------------------------------------------------
    async def _follow(self, run_id: int, argv: list[str], title: str, resumed: bool = False,
                      lock: RunLock | None = None, cluster: tuple[str, str] | None = None) -> None:
        """Run the trainer, or follow the run's Ray Job (``cluster``: address, job id),
        and fold its events in (app.runs.follow / ray_follow, as the CLI does)."""
        self.run_id = self.shown_run = run_id
        self.panel.set_resumable(None)
        self.panel.run_started(run_id, title)
        if resumed:
            self.panel.replay(title, runs.events_of(self.project, run_id))
        self.run_started.emit(run_id)

        def started(process) -> None:
            self.process = process
        callbacks = dict(on_event=lambda e: self._on_event(run_id, e),
                         on_log=lambda lines: self._on_log(run_id, lines),
                         on_record_error=self.panel.append_log)
        try:
            if cluster is not None:
                self.panel.append_log(f"Ray job {cluster[1]} on {cluster[0]}")
                follower = RayJobFollower(self.project, run_id, *cluster, lock=lock, **callbacks)
                started(follower)
                status = await follower.run()
            else:
                self.panel.append_log("$ " + " ".join(argv))
                status = await follow_run(
                    self.project, run_id, argv,
                    {**runs.child_env(spare_cores=SPARE_CORES), **self.first_click.policy().env()},
                    lock=lock, cancel_grace_s=self.cancel_grace_s, on_start=started, **callbacks)
        finally:
            self.process, self.run_id = None, None
        if status == "running":   # a cluster run left to itself (the window is closing)
            return
        if self._waiting_cluster_runs():   # another may still be running
            QTimer.singleShot(0, self, self.follow_cluster_runs)
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
        trainer then saves a resumable checkpoint before we return). A run on a
        cluster goes on: we only stop following it, and the project follows it again
        when it is next opened."""
        if isinstance(self.process, RayJobFollower):
            self.process.detach()
            return True
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
