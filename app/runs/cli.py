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
          compute: str | None = None, workers: int = 2, storage: str | None = None,
          follow: int | None = None, allow_download: bool = False,
          mirror: str | None = None) -> int:
    from training.hparams import parse_overrides
    from training.templates import get_template

    target = _target(compute, workers, storage)
    policy = weights_policy(allow_download, mirror)
    with Project.open(project_path) as project:
        reap_interrupted(project)
        if follow is not None:
            return _follow_cluster_run(project, follow, quiet)
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
            if target is None:
                target = _previous_target(project.runs.get(resume_run), storage)
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
            info = _check_cluster(target) if target is not None else None
            launch = runs.prepare_run(project, template, overrides, task=spec.task, device=device,
                                      gpus=gpus)
            print(f"run #{launch.run_id}: {launch.dataset['images']} images, "
                  f"{launch.dataset['boxes']} boxes → {launch.run_dir}", file=sys.stderr)
        try:
            if target is not None:
                return _submit_and_follow(project, launch, target, resume_run is not None, quiet,
                                          info if resume_run is None else None)
            return _follow(project, launch.run_id, launch.argv, quiet, launch.lock,
                           env=policy.env())
        finally:
            launch.lock.release()


def _target(compute: str | None, workers: int, storage: str | None):
    """The cluster a run is sent to, or None for this machine."""
    if compute is None or compute in ("local", "this-machine"):
        if storage:
            raise TrainError("--storage needs --compute (a Ray cluster)")
        return None
    from app.cluster.connect import ClusterError
    from app.runs.cluster import ClusterTarget

    try:
        return ClusterTarget(compute, workers=workers, storage=storage)
    except ClusterError as exc:
        raise TrainError(str(exc)) from None


def _previous_target(run, storage: str | None):
    """A cluster run resumes on the cluster it ran on."""
    from app.runs.cluster import ClusterTarget, compute_of

    compute = compute_of(run)
    if compute is None:
        return None
    return ClusterTarget(compute["address"], workers=compute.get("workers", 2),
                         storage=storage or compute.get("storage"))


def _check_cluster(target):
    from app.cluster.connect import ClusterError, describe

    try:
        info = describe(target.address)
    except ClusterError as exc:
        raise TrainError(str(exc)) from None
    print(f"cluster: {info.text()}", file=sys.stderr)
    return info


def _submit_and_follow(project, launch, target, resumed: bool, quiet: bool, info) -> int:
    from app.cluster.connect import ClusterError
    from app.runs.cluster import submit_run

    try:
        job_id = submit_run(project, launch.run_id, target, resume=resumed, info=info)
    except ClusterError as exc:
        raise TrainError(f"run #{launch.run_id}: {exc}") from None
    print(f"run #{launch.run_id}: Ray job {job_id} on {target.address}", file=sys.stderr)
    return _follow(project, launch.run_id, None, quiet, launch.lock, cluster=(target.address, job_id))


def _follow_cluster_run(project, run_id: int, quiet: bool) -> int:
    """``--follow RUN``: pick up a cluster run that nobody follows (a closed window)."""
    from app.runs.cluster import compute_of
    from app.runs.lock import RunLock

    try:
        run = project.runs.get(run_id)
    except KeyError as exc:
        raise TrainError(exc.args[0]) from None
    compute = compute_of(run)
    if compute is None or run.status != "running":
        raise TrainError(f"run #{run_id} is not running on a cluster ({run.status})")
    try:
        lock = RunLock(project.resolve(run.run_dir))
    except RunBusy as exc:
        raise TrainError(f"run #{run_id}: {exc}") from None
    print(f"run #{run_id}: following Ray job {compute['job_id']} on {compute['address']}",
          file=sys.stderr)
    try:
        return _follow(project, run_id, None, quiet, lock,
                       cluster=(compute["address"], compute["job_id"]))
    finally:
        lock.release()


def _follow(project, run_id: int, argv: list[str] | None, quiet: bool, lock=None,
            cluster: tuple[str, str] | None = None, env: dict[str, str] | None = None) -> int:
    """Follow the trainer with the window's own follower (app.runs.follow). Ctrl-C
    reaches the trainer too (same terminal): it saves a checkpoint and ends as
    cancelled; if it does not, the follower escalates to SIGTERM, then SIGKILL."""
    asyncio.run(_follow_async(project, run_id, argv, quiet, lock, cluster, env or {}))
    run = project.runs.get(run_id)
    first = (run.message or "").split("\n")[0]
    print(f"\nrun #{run_id} {run.status}" + (f": {first}" if first else "")
          + (f" (best {run.best_metric:.3f})" if run.best_metric is not None else ""), file=sys.stderr)
    return 0 if run.status in ("finished", "cancelled") else 1


async def _follow_async(project, run_id: int, argv: list[str] | None, quiet: bool, lock,
                        cluster: tuple[str, str] | None = None,
                        env: dict[str, str] | None = None) -> str:
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
        if cluster is not None:   # Ctrl-C stops the job, which saves a checkpoint
            from app.runs.ray_follow import RayJobFollower

            follower = RayJobFollower(project, run_id, *cluster, lock=lock,
                                      on_event=None if quiet else _show,
                                      on_log=None if quiet else _show_lost)
            held.append(follower)
            return await follower.run()
        return await follow_run(project, run_id, argv, {**runs.child_env(), **(env or {})},
                                lock=lock,
                                on_start=held.append, on_event=None if quiet else _show)
    finally:
        try:
            loop.remove_signal_handler(signal.SIGINT)
        except (NotImplementedError, RuntimeError):
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _show_lost(lines: list[str]) -> None:
    """Of a cluster job's log, only what the person must know: the connection."""
    for line in lines:
        if line.startswith("(connection to the cluster lost") or line.startswith("received "):
            print(f"\n{line}", file=sys.stderr)


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
