"""Training runs on a Ray cluster: what a run's job carries, its record, and its
checkpoints kept on cluster storage (Qt-free; shared by the Training tab and
``kestrel train --compute``).

A cluster run is prepared exactly as a local one (``records.prepare_run`` exports the
dataset into its run folder); then, instead of a child process, a Ray Job is submitted
whose working dir is that run folder reduced to ``dataset/`` (and ``last.pt`` when it
resumes) and whose modules are the ``training`` package alone — no Qt, no app. The
job id, the cluster's address and where the checkpoints are kept go into the run
record (``dataset["compute"]``), so that a reopened project follows the run again.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from app.cluster import jobs
from app.cluster.connect import ClusterError, ClusterInfo, describe, normalise
from app.runs import records


@dataclass
class ClusterTarget:
    """Where and how wide a run computes on a cluster."""
    address: str
    workers: int = 2              # Ray Train workers (DDP ranks)
    gpu: bool | None = None       # one GPU per worker; None: when the cluster has GPUs
    storage: str | None = None    # keep checkpoints here (a path every node sees, s3://…)
    cpus_per_worker: float = 1.0

    def __post_init__(self):
        self.address = normalise(self.address)
        if self.workers < 1:
            raise ClusterError("a cluster run needs at least one worker")
        if self.storage is not None and not self.storage.strip():
            self.storage = None


def compute_of(run) -> dict | None:
    """The cluster part of a run record, or None for a run on this machine."""
    compute = (run.dataset or {}).get("compute")
    return compute if isinstance(compute, dict) and compute.get("kind") == "ray" else None


def storage_name(project, run) -> str:
    return f"{project.root.name}-run{run.id:04d}-{run.template}"


def job_spec(project, run_id: int, target: ClusterTarget, info: ClusterInfo | None,
             resume: bool = False) -> tuple[jobs.JobSpec, dict]:
    """The job of a run (new or resumed) and the compute record that goes with it."""
    run = project.runs.get(run_id)
    run_dir = project.resolve(run.run_dir)
    gpu = target.gpu if target.gpu is not None else bool(info and info.gpus >= 1)
    workers = target.workers
    if gpu and info is not None and info.gpus >= 1:
        workers = max(1, min(workers, int(info.gpus)))
    argv = ["python", "-m", "training.cluster.job", "--coco", "dataset/annotations.json",
            "--images", "dataset/images", "--template", run.template, "--workers", str(workers),
            "--cpus-per-worker", f"{target.cpus_per_worker:g}"]
    argv += ["--gpu"] if gpu else []
    for key, value in run.hyperparameters.items():
        argv += ["--set", f"{key}={value}"]
    keep = {records.DATASET_DIR}
    previous = compute_of(run) or {}
    storage = target.storage or (previous.get("storage") if resume else None)
    name = storage_name(project, run)
    if storage:
        argv += ["--storage", storage, "--name", name]
    if resume:
        stored = previous.get("stored") or {}
        if (run_dir / records.LAST).is_file():
            keep.add(records.LAST)
            argv += ["--resume", records.LAST]
        elif "last.pt" in stored.get("files", []):
            argv += ["--resume", stored["uri"]]
        else:
            raise ClusterError(f"run #{run_id} has no checkpoint to resume from")
    excludes = ["/" + n for n in os.listdir(run_dir) if n not in keep]
    spec = jobs.JobSpec(shlex.join(argv), run_dir, excludes)
    compute = {"kind": "ray", "address": target.address, "job_id": spec.submission_id,
               "jobs": list(previous.get("jobs", [])) + [spec.submission_id],
               "workers": workers, "gpu": gpu, "storage": storage,
               "stored": previous.get("stored") if resume else None,
               "cluster": info.to_json() if info is not None else None}
    return spec, compute


def submit_run(project, run_id: int, target: ClusterTarget, resume: bool = False,
               info: ClusterInfo | None = None) -> str:
    """Check the cluster, submit the run's job and record it; the job id (blocking:
    the upload takes as long as the dataset needs). A refused job fails the run."""
    try:
        info = info or describe(target.address)
        spec, compute = job_spec(project, run_id, target, info, resume)
        job_id = jobs.submit(target.address, spec)
    except ClusterError as exc:
        project.runs.update(run_id, status="failed", message=f"not submitted: {exc}")
        raise
    run = project.runs.get(run_id)
    project.runs.update(run_id, dataset={**run.dataset, "compute": compute})
    return job_id


def record_stored(project, run_id: int, stored: dict) -> None:
    """The job kept its checkpoints on cluster storage (``{"uri", "files"}``)."""
    run = project.runs.get(run_id)
    compute = dict(compute_of(run) or {})
    compute["stored"] = {"uri": stored["uri"], "files": list(stored.get("files", []))}
    project.runs.update(run_id, dataset={**run.dataset, "compute": compute})


def stored_files(run) -> list[str]:
    compute = compute_of(run) or {}
    return list((compute.get("stored") or {}).get("files", []))


def fetch_stored(project, run_id: int) -> Path | None:
    """Download a run's checkpoints from cluster storage into its run folder (for *Use
    this model*); the model path, or None when the run kept none there. Blocking."""
    run = project.runs.get(run_id)
    stored = (compute_of(run) or {}).get("stored") or {}
    if not stored.get("files"):
        return None
    from pyarrow import fs

    run_dir = project.resolve(run.run_dir)
    uri = stored["uri"]
    try:
        filesystem, root = fs.FileSystem.from_uri(uri if "://" in uri else str(Path(uri).resolve()))
        for name in stored["files"]:
            part = run_dir / (name + ".part")
            fs.copy_files(root.rstrip("/") + "/" + name, str(part), source_filesystem=filesystem)
            os.replace(part, run_dir / name)
    except Exception as exc:
        raise ClusterError(f"could not download run #{run_id}'s checkpoints from {uri}: "
                           f"{exc}") from None
    return records.model_path(project, run_id)
