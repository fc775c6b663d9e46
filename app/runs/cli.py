"""``kestrel train`` and ``kestrel runs``: the command-line faces of app.runs.records.

Training runs in a child process exactly as from the window (same export, same
argv, same event recording); here its events are read line by line and shown as a
one-line progress display on stderr.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time

from app.runs import records as runs
from app.runs.follow import follow_run
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


def weights_policy(allow_download: bool = False, mirror: str | None = None):
    """The download policy: the flags, else KESTREL_ALLOW_DOWNLOAD / _WEIGHTS_MIRROR."""
    from training.weights import Policy

    env = Policy.from_env()
    return Policy(allow_download or env.allow_download, mirror or env.mirror)


def default_template(project, device: str | None, policy) -> tuple[str, dict[str, str]]:
    """The window's own first choice (app.runs.defaults), said on stderr."""
    from app.runs.defaults import device_kind, first_choice

    kind = device_kind(device)
    boxes = sum(project.classes.box_counts_by_name().values())
    choice = first_choice(boxes, project.tags.counts(), kind, policy)
    sets = " ".join(f"--set {k}={v}" for k, v in choice.overrides.items())
    print(f"no --template: using {choice.reason}" + (f" ({sets})" if sets else ""),
          file=sys.stderr)
    return choice.template, dict(choice.overrides)


def train(project_path: str, template: str | None, sets: list[str], device: str | None,
          resume_run: int | None = None, quiet: bool = False, gpus: int = 1,
          allow_download: bool = False, mirror: str | None = None) -> int:
    from training.hparams import parse_overrides
    from training.templates import get_template

    policy = weights_policy(allow_download, mirror)
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
            suggested: dict[str, str] = {}
            if not template:
                template, suggested = default_template(project, device, policy)
            try:
                spec = get_template(template)
            except KeyError as exc:
                raise TrainError(exc.args[0]) from None
            overrides = {**suggested, **parse_sets(sets)}
            parse_overrides(spec.hparams(), [f"{k}={v}" for k, v in overrides.items()])
            launch = runs.prepare_run(project, template, overrides, task=spec.task, device=device,
                                      gpus=gpus)
            print(f"run #{launch.run_id}: {launch.dataset['images']} images, "
                  f"{launch.dataset['boxes']} boxes → {launch.run_dir}", file=sys.stderr)
        try:
            return _follow(project, launch.run_id, launch.argv, quiet, launch.lock,
                           policy.env())
        finally:
            launch.lock.release()


def _follow(project, run_id: int, argv: list[str], quiet: bool, lock=None,
            env: dict[str, str] | None = None) -> int:
    """Follow the trainer with the window's own follower (app.runs.follow). Ctrl-C
    reaches the trainer too (same terminal): it saves a checkpoint and ends as
    cancelled; if it does not, the follower escalates to SIGTERM, then SIGKILL."""
    asyncio.run(_follow_async(project, run_id, argv, quiet, lock, env or {}))
    run = project.runs.get(run_id)
    first = (run.message or "").split("\n")[0]
    print(f"\nrun #{run_id} {run.status}" + (f": {first}" if first else "")
          + (f" (best {run.best_metric:.3f})" if run.best_metric is not None else ""), file=sys.stderr)
    return 0 if run.status in ("finished", "cancelled") else 1


async def _follow_async(project, run_id: int, argv: list[str], quiet: bool, lock,
                        env: dict[str, str]) -> str:
    loop = asyncio.get_running_loop()
    held: list = []

    def interrupted(*_args) -> None:
        print("\nstopping: the trainer saves a checkpoint…", file=sys.stderr)
        if held:
            held[0].cancel()
    try:
        loop.add_signal_handler(signal.SIGINT, interrupted)
    except (NotImplementedError, RuntimeError):   # Windows: Ctrl-C arrives as KeyboardInterrupt
        signal.signal(signal.SIGINT, lambda *_a: loop.call_soon_threadsafe(interrupted))
    try:
        return await follow_run(project, run_id, argv, {**runs.child_env(), **env}, lock=lock,
                                on_start=held.append, on_event=None if quiet else _show)
    finally:
        try:
            loop.remove_signal_handler(signal.SIGINT)
        except (NotImplementedError, RuntimeError):
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _num(value, fmt: str = ".3f") -> str:
    return format(value, fmt) if isinstance(value, (int, float)) else "?"


def _show(event: dict) -> None:
    kind = event["event"]
    if kind == "progress":
        eta = time.strftime("%H:%M:%S", time.gmtime(event.get("eta_s") or 0))
        left = "left" if event.get("progress") is not None else "eta"   # a time budget
        print(f"\repoch {event['epoch'] + 1} step {event['step']}/{event['steps']} "
              f"loss {_num(event.get('loss'))} {_num(event.get('images_per_s'), '.1f')} img/s "
              f"{left} {eta}   ", end="", file=sys.stderr, flush=True)
    elif kind == "metrics":
        print(f"\nepoch {event['epoch'] + 1}: "
              + " ".join(f"{k} {event[k]:.3f}" for k in ("map", "map50", "precision_at_1")
                         if isinstance(event.get(k), (int, float))), file=sys.stderr)
    elif kind == "failed":
        print(f"\ntraining failed: {event['message']}", file=sys.stderr)
    elif kind == "weights" and event.get("message"):
        print(("warning: " if event.get("warning") else "") + event["message"], file=sys.stderr)
    elif kind == "weights" and event.get("total_bytes"):
        print(f"\rdownloading {event.get('file')}: {event['done_bytes'] / 2**20:.1f} of "
              f"{event['total_bytes'] / 2**20:.1f} MB   ", end="", file=sys.stderr, flush=True)


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
