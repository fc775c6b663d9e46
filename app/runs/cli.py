"""``kestrel train`` and ``kestrel runs``: the command-line faces of app.runs.records.

Training runs in a child process exactly as from the window (same export, same
argv, same event recording); here its events are read line by line and shown as a
one-line progress display on stderr.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

from app.runs import records as runs
from app.runs.lock import RunBusy, reap_interrupted
from app.store.project import Project


class TrainError(ValueError):
    """A user error before any training starts (reported with exit code 2)."""


def parse_sets(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise TrainError(f"--set {pair!r}: expected key=value")
        out[key.strip().replace("-", "_")] = value.strip()
    return out


def train(project_path: str, template: str | None, sets: list[str], device: str | None,
          resume_run: int | None = None, quiet: bool = False, gpus: int = 1) -> int:
    from training.hparams import parse_overrides
    from training.templates import get_template

    with Project.open(project_path) as project:
        reap_interrupted(project)
        if resume_run is not None:
            try:
                row = runs.run_row(project, project.runs.get(resume_run))
            except KeyError as exc:
                raise TrainError(exc.args[0]) from None
            if not row["resumable"]:
                raise TrainError(f"run #{resume_run} is {row['status']} and has no checkpoint "
                                 "to resume from" if not row["has_model"] else
                                 f"run #{resume_run} is {row['status']}; only cancelled or "
                                 "failed runs resume")
            try:
                launch = runs.prepare_resume(project, resume_run, device=device, gpus=gpus)
            except RunBusy as exc:
                raise TrainError(f"run #{resume_run}: {exc}") from None
            print(f"run #{resume_run}: resuming from {row['run_dir']}", file=sys.stderr)
        else:
            if not template:
                raise TrainError("name a template with --template (see `python -m training templates`)")
            try:
                spec = get_template(template)
            except KeyError as exc:
                raise TrainError(exc.args[0]) from None
            overrides = parse_sets(sets)
            parse_overrides(spec.hparams(), [f"{k}={v}" for k, v in overrides.items()])
            launch = runs.prepare_run(project, template, overrides, task=spec.task, device=device,
                                      gpus=gpus)
            print(f"run #{launch.run_id}: {launch.dataset['images']} images, "
                  f"{launch.dataset['boxes']} boxes → {launch.run_dir}", file=sys.stderr)
        try:
            return _follow(project, launch.run_id, launch.argv, quiet)
        finally:
            launch.lock.release()


def _follow(project, run_id: int, argv: list[str], quiet: bool) -> int:
    from training.events import EventError, is_terminal, parse_event

    run_dir = project.resolve(project.runs.get(run_id).run_dir)
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=runs.child_env(), bufsize=1)
    stderr_lines: list[str] = []

    def drain():  # the trainer's human log: to trainer.log, the tail kept for crash messages
        with open(run_dir / runs.LOG_FILE, "a", encoding="utf-8") as log:
            for line in child.stderr:
                log.write(line)
                stderr_lines.append(line)
                del stderr_lines[:-50]

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    terminal = None

    def read(show: bool) -> None:
        nonlocal terminal
        for line in child.stdout:
            try:
                event = parse_event(line)
            except EventError:
                continue
            runs.record_event(project, run_id, event)
            if show:
                _show(event)
            if is_terminal(event):
                terminal = event

    try:
        read(not quiet)
    except KeyboardInterrupt:
        # The terminal sent SIGINT to the trainer too: it saves and emits `cancelled`.
        print("\nstopping: the trainer saves a checkpoint…", file=sys.stderr)
        read(False)
    code = child.wait()
    drainer.join(timeout=5)
    if terminal is None:
        runs.mark_crashed(project, run_id, code, "".join(stderr_lines))
    run = project.runs.get(run_id)
    first = (run.message or "").split("\n")[0]
    print(f"\nrun #{run_id} {run.status}" + (f": {first}" if first else "")
          + (f" (best {run.best_metric:.3f})" if run.best_metric is not None else ""), file=sys.stderr)
    return 0 if run.status in ("finished", "cancelled") else 1


def _num(value, fmt: str = ".3f") -> str:
    return format(value, fmt) if isinstance(value, (int, float)) else "?"


def _show(event: dict) -> None:
    kind = event["event"]
    if kind == "progress":
        eta = time.strftime("%H:%M:%S", time.gmtime(event.get("eta_s") or 0))
        print(f"\repoch {event['epoch'] + 1} step {event['step']}/{event['steps']} "
              f"loss {_num(event.get('loss'))} {_num(event.get('images_per_s'), '.1f')} img/s "
              f"eta {eta}   ", end="", file=sys.stderr, flush=True)
    elif kind == "metrics":
        print(f"\nepoch {event['epoch'] + 1}: "
              + " ".join(f"{k} {event[k]:.3f}" for k in ("map", "map50", "precision_at_1")
                         if isinstance(event.get(k), (int, float))), file=sys.stderr)
    elif kind == "failed":
        print(f"\ntraining failed: {event['message']}", file=sys.stderr)


def _duration(seconds) -> str:
    if seconds is None:
        return "-"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def list_runs(project_path: str, as_json: bool = False) -> int:
    """``kestrel runs``: the run history, oldest first, as a table or JSON."""
    with Project.open(project_path) as project:
        reap_interrupted(project)
        rows = [runs.run_row(project, r) for r in project.runs.all()]
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no runs yet")
        return 0
    print(f"{'run':>5}  {'template':<38} {'status':<10} {'best':>6} {'images':>6} {'boxes':>6} "
          f"{'duration':>9}  started")
    for r in rows:
        mark = "*" if r["active"] else " "
        print(f"{mark}{r['id']:>4}  {r['template']:<38} {r['status']:<10} {_num(r['best_metric']):>6} "
              f"{r['images']:>6} {r['boxes']:>6} {_duration(r['duration_s']):>9}  "
              f"{(r['created'] or '')[:16].replace('T', ' ')}")
        if r["message"] and r["status"] != "finished":
            print(f"       {r['message'].splitlines()[0]}")
        if r["hyperparameters"]:
            print("       " + " ".join(f"{k}={v}" for k, v in sorted(r["hyperparameters"].items())))
    return 0
