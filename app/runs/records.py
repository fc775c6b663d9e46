"""Preparing, launching and recording training runs — shared by ``kestrel train`` and
the training panel, so both export and launch in exactly the same way.

A run folder ``PROJECT/runs/<id>-<template>/`` holds the exported dataset (COCO,
images hard-linked), the trainer's checkpoints and ``events.jsonl``. The trainer
is always a child process (``python -m training train …``); this module only builds
its command line and folds its events into the project's run record.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from app.runs.lock import RunLock
from app.store.exporter import export_project

DATASET_DIR = "dataset"
EVENTS_FILE = "events.jsonl"
LOG_FILE = "trainer.log"      # the child's stderr, kept for a failed run's story
LAST, BEST = "last.pt", "best.pt"


@dataclass
class RunLaunch:
    """A run ready to start. ``lock`` marks this process as the one following it:
    keep it until the run has ended, then ``release`` it (see app.runs.lock)."""
    run_id: int
    run_dir: Path
    argv: list[str]
    dataset: dict = field(default_factory=dict)
    lock: RunLock | None = None


def dataset_summary(project) -> dict:
    """What a run exports: images plus labelled video frames, boxes per class."""
    from app.runs.data import counts

    base = counts(project)
    base.pop("split_items")   # per-image split marks: for the panel's split, not the record
    return {**base, "tags": project.info()["tags"]}


def prepare_run(project, template: str, overrides: dict[str, str] | None = None, *,
                task: str = "detector", device: str | None = None, gpus: int = 1,
                frames: dict[int, list[int]] | None = None) -> RunLaunch:
    """Record a new run, export the dataset into its folder, build the trainer's argv.

    The dataset holds labelled pictures only: ones with boxes and ones marked "no
    objects" (the negatives); pictures not labelled yet or needing review are left out
    (an embedder also gets every tagged image: it learns from tags). ``frames``
    defaults to every labelled video frame. Safe to call from a worker thread with a
    Project opened there (SQLite connections stay in their thread).
    """
    from app.runs.data import labelled_frames

    overrides = dict(overrides or {})
    if frames is None:
        frames = labelled_frames(project)
    runs_root = project.root / "runs"
    runs_root.mkdir(exist_ok=True)
    run_id = project.runs.add(name=template, task=task, template=template, run_dir="",
                             hyperparameters=overrides, dataset=dataset_summary(project))
    run_dir = runs_root / f"{run_id:04d}-{template}"
    name = f"#{run_id} {template}"
    lock = RunLock(run_dir)
    try:
        project.runs.update(run_id, run_dir=project.stored_path(run_dir), name=name)
        counts = export_project(project, run_dir / DATASET_DIR, "coco", frames=frames,
                                link_images=True, training=True, tagged=task == "embedder")
    except BaseException as exc:
        project.runs.update(run_id, status="failed", message=f"export failed: {exc}")
        lock.release()
        raise
    project.runs.update(run_id, dataset={**project.runs.get(run_id).dataset, **counts})
    argv = trainer_argv(run_dir, template, overrides, device=device, gpus=gpus)
    return RunLaunch(run_id, run_dir, argv, counts, lock)


def trainer_argv(run_dir: Path, template: str, overrides: dict[str, str], *,
                 device: str | None = None, gpus: int = 1, resume: bool = False) -> list[str]:
    """The trainer's command line, built by training.cli itself (torch-free) so its
    flags never drift; several GPUs run it under torchrun (DDP)."""
    from training.cli import train_argv

    dataset = run_dir / DATASET_DIR
    argv = train_argv(dataset / "annotations.json", dataset / "images", template, run_dir,
                      overrides, resume=resume, device=device or "auto")
    if gpus > 1:
        argv = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                f"--nproc_per_node={gpus}", "-m", "training"] + argv[3:]
    return argv


def prepare_resume(project, run_id: int, device: str | None = None, gpus: int = 1) -> RunLaunch:
    """Take the run's lock (RunBusy if another process follows it), mark it running
    again and build the argv that goes on from last.pt."""
    run = project.runs.get(run_id)
    run_dir = project.resolve(run.run_dir)
    lock = RunLock(run_dir)
    project.runs.update(run_id, status="running", message=None, finished_at=None)
    argv = trainer_argv(run_dir, run.template, run.hyperparameters, device=device, gpus=gpus,
                        resume=True)
    return RunLaunch(run_id, run_dir, argv, dict(run.dataset), lock)


def child_env(spare_cores: int = 0) -> dict[str, str]:
    """The trainer's environment: unbuffered, and this checkout importable.

    ``spare_cores``: CPU cores kept free of the trainer's compute threads (the window
    asks for one so that its event loop is never starved on a small machine); an
    explicit OMP_NUM_THREADS from the user wins.
    """
    env = dict(os.environ)
    if spare_cores and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) - spare_cores))
    env["PYTHONUNBUFFERED"] = "1"
    root = str(Path(__file__).resolve().parents[2])   # the checkout holding training/
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def record_event(project, run_id: int, event: dict) -> None:
    """Fold one trainer event into the run record (metrics history, status)."""
    kind = event.get("event")
    run_dir = project.resolve(project.runs.get(run_id).run_dir)
    with open(run_dir / EVENTS_FILE, "a", encoding="utf-8") as f:
        f.write(json.dumps(event) + "\n")
    if kind == "metrics":
        run = project.runs.get(run_id)
        history = list(run.metrics.get("history", []))
        entry = {k: event.get(k) for k in ("epoch", "map", "map50", "per_class",
                                           "precision_at_1", "r_precision", "map_at_r")
                 if event.get(k) is not None}
        history.append(entry)
        key = "map" if event.get("map") is not None else "precision_at_1"
        best = max((h.get(key) or 0.0 for h in history), default=None)
        project.runs.update(run_id, metrics={**run.metrics, "history": history, "last": entry},
                           best_metric=best)
    elif kind == "started":
        run = project.runs.get(run_id)
        project.runs.update(
            run_id, metrics={**run.metrics, "session_started": event.get("time")},
            dataset={**run.dataset, "train_images": event.get("train_images"),
                     "val_images": event.get("val_images"), "device": event.get("device")})
    elif kind in ("finished", "cancelled", "failed"):
        run = project.runs.get(run_id)
        metrics = dict(run.metrics)
        start = metrics.pop("session_started", None)
        if start is not None and event.get("time") is not None:  # time spent training, all sessions
            metrics["duration_s"] = metrics.get("duration_s", 0.0) + max(0.0, event["time"] - start)
        message = {"finished": None,
                   "cancelled": f"cancelled at epoch {(event.get('epoch') or 0) + 1}; resumable",
                   "failed": _failure(event)}[kind]
        project.runs.update(run_id, status=kind, message=message, metrics=metrics)


def _failure(event: dict) -> str:
    """A failed event's message with the end of its traceback (where it broke)."""
    message = event.get("message") or "failed"
    tail = [line for line in (event.get("traceback") or "").strip().splitlines() if line.strip()]
    return message + ("\n\n" + "\n".join(tail[-8:]) if tail else "")


def mark_crashed(project, run_id: int, returncode: int, stderr_tail: str,
                 cancelled: bool = False) -> None:
    """The child ended without a terminal event (killed, out of memory, a bad
    command line, or stopped before it could save): record why, with the log tail."""
    run = project.runs.get(run_id)
    if run.status != "running":
        return
    lines = [line for line in stderr_tail.strip().splitlines() if line.strip()]
    if cancelled:
        project.runs.update(run_id, status="cancelled",
                           message=f"stopped (exit code {returncode}) before a terminal event")
        return
    head = f"trainer exited with code {returncode}"
    if lines:
        head += f": {lines[-1].strip()}"
    tail = "\n".join(lines[-12:])
    project.runs.update(run_id, status="failed", message=head + (f"\n\n{tail}" if tail else ""))


def model_path(project, run_id: int) -> Path | None:
    """The checkpoint predictions should use: best.pt, else last.pt, else None."""
    run_dir = project.resolve(project.runs.get(run_id).run_dir)
    for name in (BEST, LAST):
        if (run_dir / name).is_file():
            return run_dir / name
    return None


def run_row(project, run) -> dict:
    """One run as plain data for the history table and ``kestrel runs --json``."""
    run_dir = project.resolve(run.run_dir) if run.run_dir else None
    has_last = bool(run_dir and (run_dir / LAST).is_file())
    return {"id": run.id, "name": run.name, "task": run.task, "template": run.template,
            "status": run.status, "message": run.message, "best_metric": run.best_metric,
            "hyperparameters": run.hyperparameters, "images": run.dataset.get("images", 0),
            "boxes": run.dataset.get("boxes", 0), "dataset": run.dataset,
            "duration_s": run.metrics.get("duration_s"), "created": run.created_at,
            "finished": run.finished_at, "run_dir": str(run_dir) if run_dir else None,
            "resumable": run.status in ("cancelled", "failed") and has_last,
            "has_model": bool(run_dir and ((run_dir / BEST).is_file() or has_last)),
            "active": project.settings.get("active_run") == str(run.id)}


def events_of(project, run_id: int) -> list[dict]:
    """The recorded events of a run, to draw its charts again."""
    path = project.resolve(project.runs.get(run_id).run_dir) / EVENTS_FILE
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut short by a crash
    return out
