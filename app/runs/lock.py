"""Who is following a training run: an OS file lock in the run folder.

The process that launches a trainer (the window or ``kestrel train``) holds
``owner.lock`` while the run is marked running. The operating system releases the
lock when that process ends, however it ends (a crash, a kill, a power cut), so a
run still marked "running" whose lock is free was interrupted: nobody is reading its
trainer any more (which dies on its next event, its pipe gone) and the record will
never be finished. ``reap_interrupted`` says so in the record, and the run can be
resumed from its last checkpoint like any failed run.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.store.lockfile import FileLock

LOCK_FILE = "owner.lock"


class RunBusy(RuntimeError):
    """Another process is following this run."""


class RunLock(FileLock):
    """Held for as long as this process follows the run; ``release`` when done."""

    def __init__(self, run_dir: str | os.PathLike):
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(run_dir / LOCK_FILE)
        if not self.held:
            raise RunBusy(f"{run_dir.name} is being trained by another process"
                          if self.busy else f"cannot write a lock file in {run_dir}")


def is_followed(run_dir: str | os.PathLike) -> bool | None:
    """True while some process holds the run's lock; False when nobody does; None
    when the run never had one (a run still being exported, or an older project)."""
    path = Path(run_dir) / LOCK_FILE
    if not path.is_file():
        return None
    probe = FileLock(path)
    probe.release()
    return probe.busy


INTERRUPTED = ("interrupted: the window or command that ran it stopped before the run "
               "ended (closed by force, crashed or killed)")


def reap_interrupted(project) -> list[int]:
    """Mark runs recorded as running that nobody follows as failed; their ids. A run on
    a Ray cluster is left alone: its job goes on without us and is followed again by
    its job id (app.runs.ray_follow)."""
    reaped = []
    for run in project.runs.all():
        if run.status != "running" or not run.run_dir:
            continue
        if (run.dataset or {}).get("compute", {}).get("kind") == "ray":
            continue
        if is_followed(project.resolve(run.run_dir)) is False:
            project.runs.update(run.id, status="failed", message=INTERRUPTED)
            reaped.append(run.id)
    return reaped
