"""Dataset work off the GUI thread: a plain thread that opens its own ``Project`` on
the same folder (SQLite connections stay in their thread) and reports through Qt
signals, which reach the GUI thread queued."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal

from app.store.dataset_io import Cancelled
from app.store.project import Project

log = logging.getLogger(__name__)


class Job(QObject):
    progress = Signal(str, int, int)     # phase, done, total (0: unknown)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, root: Path, work: Callable[[Project, "Job"], object], parent=None):
        super().__init__(parent)
        self.root = root
        self.work = work
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kestrel-dataset-job", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def check(self) -> None:
        """Called by the work as it goes: raises Cancelled once Cancel was pressed."""
        if self._cancel.is_set():
            raise Cancelled()

    def report(self, phase: str, done: int, total: int) -> None:
        self.progress.emit(phase, done, total)

    def wait(self, timeout: float) -> bool:
        """True when the work has ended within ``timeout`` seconds."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        from app.datasets.plan import DatasetError
        from app.store.exporter import ExportError
        from app.store.formats import FormatError
        from app.store.project import ProjectError, store_problem
        from app.store.repos.base import StoreError

        try:
            with Project.open(self.root) as project:
                result = self.work(project, self)
            self.check()
        except Cancelled:
            self.cancelled.emit()
        except (DatasetError, FormatError, ExportError, ProjectError, OSError) as exc:
            self.failed.emit(str(exc))
        except StoreError as exc:  # a full disk, a busy or damaged project file: rolled back
            self.failed.emit(store_problem(exc, self.root))
        except Exception as exc:   # a bug: say so, with the type, and keep the window alive
            log.exception("dataset job failed")
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.done.emit(result)
