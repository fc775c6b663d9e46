"""What the Training tab starts on a worker thread, each with its own connection to
the project (SQLite connections stay in their thread): preparing a run, submitting a
cluster run's resume, fetching a cluster run's stored checkpoints."""

from __future__ import annotations

from pathlib import Path

from app.runs import records as runs
from app.runs.cluster import fetch_stored, submit_run


def prepare_at(root: Path, template: str, overrides: dict, task: str, device: str, gpus: int,
             target=None, customise=None):
    """Export + record a run on a worker thread, with its own SQLite connection;
    ``customise(project, launch)`` may then adjust the run before it starts; for a
    cluster run, check the cluster and submit the job too. (launch, job id or None)"""
    from app.store.project import Project

    with Project.open(root) as project:
        launch = runs.prepare_run(project, template, overrides, task=task, device=device, gpus=gpus)
        if customise is not None:
            customise(project, launch)
        if target is None:
            return launch, None
        try:
            return launch, submit_run(project, launch.run_id, target)
        except BaseException:
            launch.lock.release()
            raise


def submit_resume_at(root: Path, run_id: int, target) -> str:
    from app.store.project import Project

    with Project.open(root) as project:
        return submit_run(project, run_id, target, resume=True)


def fetch_at(root: Path, run_id: int) -> None:
    from app.store.project import Project

    with Project.open(root) as project:
        fetch_stored(project, run_id)
