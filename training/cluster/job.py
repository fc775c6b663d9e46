"""A training run as a Ray Job: the job's entrypoint (its driver).

    python -m training.cluster.job --coco dataset/annotations.json --images dataset/images \
        --template NAME --workers 2 [--gpu] [--set k=v ...] [--resume resume/last.pt | --resume URI]
        [--storage URI --name RUN]

Ray starts it on the cluster with the job's working dir (the exported dataset, and a
checkpoint to resume from) as its current directory and this package on its path. It
runs the unchanged trainer, ``training.run.run_train``, on ``--workers`` Ray Train
workers under ``TorchTrainer`` (Ray sets up the DDP process group; the trainer's
samplers split the data by rank). Rank 0's events reach this driver through a small
actor (``Channel``) and are printed here, numbered, as the job's log (see
``training.cluster.wire``); so are the checkpoints when the run ends, unless they are
kept on cluster storage (``--storage``: a path every node sees, or a URI pyarrow can
write, such as s3://…), where rank 0 copies them after every checkpoint.

Stopping the job (Ray sends SIGTERM) asks the workers to stop after their current
step: rank 0 saves ``last.pt`` and emits ``cancelled``, the checkpoint travels, and the
driver exits. A hyperparameter the template refuses fails the job before any worker
starts.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from training.cluster import wire

CHECKPOINTS = ("last.pt", "best.pt")
POLL_S = 0.2          # how often the driver prints what rank 0 sent
STOP_POLL_S = 0.5     # how often rank 0 asks whether to stop
WIND_DOWN_S = 60      # how long the driver waits for Ray Train to end after the answer


class Printer:
    """Numbered event lines on stdout; a terminal event is held back until the
    checkpoints have been printed."""

    def __init__(self, out):
        self.out, self.seq, self.terminal = out, 0, None

    def event(self, event: dict[str, Any]) -> None:
        if event.get("event") in ("finished", "cancelled", "failed") and self.terminal is None:
            self.terminal = event
            return
        self.line(wire.dumps({**event, "seq": self.seq}))
        self.seq += 1

    def line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def finish(self) -> int:
        """Print the held terminal event; the driver's exit code."""
        if self.terminal is None:
            return 1
        kind = self.terminal["event"]
        self.line(wire.dumps({**self.terminal, "seq": self.seq}))
        self.seq += 1
        return 1 if kind == "failed" else 0


def failed_event(message: str, tb: str = "") -> dict[str, Any]:
    from training.events import make_event

    return make_event("failed", message=message, traceback=tb, epoch=None)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training.cluster.job")
    p.add_argument("--coco", required=True)
    p.add_argument("--images", required=True)
    p.add_argument("--template", required=True)
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cpus-per-worker", type=float, default=1.0)
    p.add_argument("--gpu", action="store_true", help="one GPU per worker")
    p.add_argument("--resume", default=None, help="last.pt in the working dir, or a storage URI")
    p.add_argument("--storage", default=None, help="keep checkpoints here (path or URI)")
    p.add_argument("--name", default="kestrel-run", help="the run's folder on --storage")
    p.add_argument("--progress-interval", type=float, default=0.5)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out, sys.stdout = sys.stdout, sys.stderr   # stdout: protocol lines only
    printer = Printer(out)
    try:
        from training.hparams import parse_overrides
        from training.templates import get_template

        parse_overrides(get_template(args.template).hparams(), args.overrides)
    except Exception as exc:  # refused before any worker starts
        printer.event(failed_event(f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        return printer.finish()
    scratch = tempfile.mkdtemp(prefix="kestrel-raytrain-")
    try:
        return _train(args, printer, scratch)
    finally:
        sys.stdout = out
        shutil.rmtree(scratch, ignore_errors=True)


def _train(args, printer: Printer, scratch: str) -> int:
    import ray
    from ray.train import FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    ray.init(log_to_driver=True)
    channel = ray.remote(num_cpus=0)(Channel).remote()
    signal.signal(signal.SIGTERM, lambda *_: channel.stop.remote())
    signal.signal(signal.SIGINT, lambda *_: channel.stop.remote())
    per_worker = {"CPU": args.cpus_per_worker, **({"GPU": 1} if args.gpu else {})}
    config = {"channel": channel, "coco": str(Path(args.coco).resolve()),
              "images": str(Path(args.images).resolve()), "template": args.template,
              "overrides": list(args.overrides), "storage": args.storage, "name": args.name,
              "resume": _resume_source(args.resume), "progress": args.progress_interval,
              "device": "auto" if args.gpu else "cpu"}
    trainer = TorchTrainer(
        worker_loop, train_loop_config=config,
        scaling_config=ScalingConfig(num_workers=args.workers, use_gpu=args.gpu,
                                     resources_per_worker=per_worker),
        # Ray Train's own bookkeeping goes to a scratch folder (nothing is reported to
        # it: the checkpoints travel as described above), not to ~/ray_results
        run_config=RunConfig(name=f"{args.name}-{int(time.time())}", storage_path=scratch,
                             failure_config=FailureConfig(max_failures=0)))
    crash: list[BaseException] = []

    def fit() -> None:
        try:
            trainer.fit()
        except BaseException as exc:  # reported below as the run's failure
            crash.append(exc)
    thread = threading.Thread(target=fit, name="kestrel-fit", daemon=True)
    thread.start()
    files = None
    while thread.is_alive():
        thread.join(POLL_S)
        for event in ray.get(channel.take.remote()):
            printer.event(event)
        if printer.terminal is not None:
            files = ray.get(channel.files.remote())
            if files is not None:   # rank 0 is done: answer now, Ray winds down after
                break
    for event in ray.get(channel.take.remote()):
        printer.event(event)
    if files is None:
        files = ray.get(channel.files.remote()) or {}
    if args.storage:
        if files:
            printer.line(wire.dumps({"kestrel": "stored", "uri": _join(args.storage, args.name),
                                     "files": sorted(files)}))
    else:
        for name in CHECKPOINTS:
            if name in files:
                for line in wire.file_lines(name, files[name]):
                    printer.line(line)
    if printer.terminal is None:
        exc = crash[0] if crash else RuntimeError("the workers ended without a result")
        printer.event(failed_event(f"{type(exc).__name__}: {exc}",
                                   "".join(traceback.format_exception(exc))))
    code = printer.finish()
    thread.join(WIND_DOWN_S)   # let Ray Train end its workers before the driver exits
    return code


class Channel:
    """Rank 0's events and final checkpoints for the driver, and the driver's stop
    request for the workers (a Ray actor)."""

    def __init__(self):
        self._events: list[dict] = []
        self._files: dict[str, bytes] | None = None   # None until rank 0 is done
        self._stop = False

    def put(self, event: dict) -> None:
        self._events.append(event)

    def take(self) -> list[dict]:
        events, self._events = self._events, []
        return events

    def put_files(self, files: dict[str, bytes]) -> None:
        self._files = dict(files)

    def files(self) -> dict[str, bytes] | None:
        return self._files

    def stop(self) -> None:
        self._stop = True

    def stopping(self) -> bool:
        return self._stop


class ChannelStream:
    """A text stream for training.events.Emitter whose lines go to the Channel."""

    def __init__(self, channel):
        self.channel, self._buffer = channel, ""

    def write(self, text: str) -> None:
        import json

        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            if line.strip():
                self.channel.put.remote(json.loads(line))  # calls from one caller stay in order

    def flush(self) -> None:
        pass


def worker_loop(config: dict[str, Any]) -> None:
    """One Ray Train worker: the unchanged trainer in a scratch run folder."""
    import ray
    import ray.train

    from training.events import Emitter
    from training.run import TrainConfig, run_train
    from training.trainer import Hook

    rank = ray.train.get_context().get_world_rank()
    channel = config["channel"]
    run_dir = Path(tempfile.mkdtemp(prefix="kestrel-run-"))

    class StopHook(Hook):
        """Asks the channel, every STOP_POLL_S, whether the driver was told to stop."""
        asked = 0.0

        def after_step(self, trainer, images) -> None:
            now = time.monotonic()
            if now - self.asked >= STOP_POLL_S:
                self.asked = now
                if ray.get(channel.stopping.remote()):
                    trainer.request_stop("cancel")

    class StoreHook(Hook):
        """Copies the checkpoints to cluster storage as soon as they are written."""

        def after_epoch(self, trainer) -> None:
            _upload(run_dir, config["storage"], config["name"])

        def on_cancel(self, trainer) -> None:
            _upload(run_dir, config["storage"], config["name"])

    try:
        if config["resume"]:
            _fetch(config["resume"], run_dir / "last.pt")
        hooks: list[Hook] = []
        if rank == 0:
            hooks.append(StopHook())
            if config["storage"]:
                hooks.append(StoreHook())
        cfg = TrainConfig(Path(config["coco"]), Path(config["images"]), config["template"],
                          run_dir, list(config["overrides"]), resume=bool(config["resume"]),
                          device=config["device"], progress_interval_s=config["progress"],
                          extra_hooks=hooks)
        run_train(cfg, Emitter(ChannelStream(channel)))
        if rank == 0:
            names = [n for n in CHECKPOINTS if (run_dir / n).is_file()]
            files = ({n: b"" for n in names} if config["storage"]
                     else {n: (run_dir / n).read_bytes() for n in names})
            ray.get(channel.put_files.remote(files))   # before fit() returns on the driver
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _resume_source(value: str | None) -> str | None:
    """A file in the working dir becomes an absolute path (workers run elsewhere)."""
    if not value:
        return None
    return value if "://" in value else str(Path(value).resolve())


def _join(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name


def _upload(run_dir: Path, storage: str, name: str) -> None:
    from pyarrow import fs

    filesystem, root = fs.FileSystem.from_uri(_abs(storage))
    target = root.rstrip("/") + "/" + name
    filesystem.create_dir(target, recursive=True)
    for file in CHECKPOINTS:
        if (run_dir / file).is_file():
            fs.copy_files(str(run_dir / file), target + "/" + file,
                          destination_filesystem=filesystem)


def _fetch(source: str, dest: Path) -> None:
    """last.pt from the working dir or from storage (``URI`` names the run folder)."""
    if "://" not in source and Path(source).is_file():
        shutil.copyfile(source, dest)
        return
    from pyarrow import fs

    filesystem, root = fs.FileSystem.from_uri(_abs(source))
    fs.copy_files(root.rstrip("/") + "/last.pt", str(dest), source_filesystem=filesystem)


def _abs(storage: str) -> str:
    return storage if "://" in storage else str(Path(storage).resolve())


if __name__ == "__main__":
    # Run the imported module, not __main__: the workers then import the functions
    # and classes they are handed from this package instead of unpickling a script.
    from training.cluster import job

    sys.exit(job.main())
