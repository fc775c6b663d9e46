"""One background thread with its own ``Project`` connection, for controllers.

SQLite connections stay in their thread, so the worker opens the project itself
(on first use) and every job receives it. A job's answer comes back on the GUI
thread through a queued signal; a job submitted under a *key* replaces the answer
of any earlier job with that key still pending (latest wins: the threshold slider
moved again, the user opened another picture). Failures come back as text and
never reach the window as exceptions. ``shutdown()`` never waits: pending jobs are
dropped, a running one finishes on its own (the thread is a daemon) and its answer
is ignored.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal


class ProjectWorker(QObject):
    _answer = Signal(int, object, object)     # job id, callback, result or _Failure

    def __init__(self, root, parent: QObject | None = None, name: str = "kestrel-worker",
                 on_error: Callable[[str], None] | None = None):
        super().__init__(parent)
        self.root = root
        self.on_error = on_error
        self._jobs: queue.Queue = queue.Queue()
        self._latest: dict[str, int] = {}      # key → newest job submitted under it
        self._key_of: dict[int, str] = {}
        self._next = 0
        self._closed = False
        self._answer.connect(self._deliver)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], *args, done: Callable[[Any], None] | None = None,
               key: str | None = None) -> int:
        """Run ``fn(project, *args)`` on the worker; ``done(result)`` on the GUI thread."""
        if self._closed:
            return -1
        self._next += 1
        job = self._next
        if key is not None:
            self._latest[key] = job
            self._key_of[job] = key
        self._jobs.put((job, key, fn, args, done))
        return job

    def shutdown(self) -> None:
        self._closed = True
        self._latest.clear()
        self._jobs.put(None)

    def idle(self, timeout: float = 5.0) -> bool:
        """Wait until every job submitted so far has run (tests, benchmarks)."""
        event = threading.Event()
        self._jobs.put((0, None, lambda _p: event.set(), (), None))
        return event.wait(timeout)

    # -- the thread ----------------------------------------------------------------
    def _run(self) -> None:
        project = None
        try:
            while True:
                item = self._jobs.get()
                if item is None:
                    return
                job, key, fn, args, done = item
                if key is not None and self._latest.get(key) != job:
                    self._key_of.pop(job, None)
                    continue            # a newer job with this key is queued
                try:
                    if project is None:
                        from app.store.project import Project

                        project = Project.open(self.root)
                    result = fn(project, *args)
                except Exception as exc:   # reported, never raised in the window
                    result = _Failure(f"{type(exc).__name__}: {exc}")
                if done is not None or isinstance(result, _Failure):
                    try:
                        self._answer.emit(job, done, result)
                    except RuntimeError:
                        return          # the owner is gone
        finally:
            if project is not None:
                project.close()

    def _deliver(self, job: int, done, result) -> None:
        key = self._key_of.pop(job, None)
        if self._closed or (key is not None and self._latest.get(key) != job):
            return                      # closed, or superseded while it ran
        if isinstance(result, _Failure):
            if self.on_error is not None:
                self.on_error(result.text)
            return
        done(result)


class _Failure:
    def __init__(self, text: str):
        self.text = text
