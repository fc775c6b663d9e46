"""The ``kestrel`` command line.

Exit codes: 0 on success, 2 with a one-line message on a user error (a missing
project, a malformed label file, a bad option). Heavy modules (Qt, torch) are
imported by the commands that need them, never at start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from app.datasets.cli import DATASET_COMMANDS, add_dataset_parsers
from app.durability.cli import DOCTOR_COMMANDS, add_doctor_parser
from app.next.cli import NEXT_COMMANDS, add_next_parsers
from app.search.cli import SEARCH_COMMANDS, add_search_parsers
from app.store.formats.labelset import FormatError
from app.store.project import Project, ProjectDamaged, ProjectError, store_problem
from app.store.repos.base import StoreError


class UserError(Exception):
    """Reported as one line on stderr with exit code 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kestrel", description="Label, train and review vision models.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("new", help="create an empty project folder")
    s.add_argument("project")

    add_dataset_parsers(sub)  # import, export

    s = sub.add_parser("info", help="counts of media, boxes per class, tags and runs")
    s.add_argument("project")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("demo", help="make a demo project from generated data and open it")
    s.add_argument("dir", nargs="?", default=None, help="where (default: ~/kestrel-demo)")
    s.add_argument("--no-window", action="store_true", help="make the project, print its info")
    _window_options(s)

    s = sub.add_parser("open", help="open a project in the window")
    s.add_argument("project")
    _window_options(s)

    s = sub.add_parser("train", help="train a model from a template (a child process; Ctrl-C saves)")
    s.add_argument("project")
    s.add_argument("--template", help="template name (see `python -m training templates`; "
                   "default: the best one whose pretrained weights this machine has)")
    s.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="hyperparameter (repeatable)")
    s.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: the best there is)")
    s.add_argument("--gpus", type=int, default=1, help="GPUs for one run with torchrun (DDP)")
    s.add_argument("--resume", type=int, metavar="RUN", help="go on with a cancelled or failed run")
    s.add_argument("--quiet", action="store_true", help="no progress display")
    _compute_options(s)
    s.add_argument("--storage", metavar="URI", help="with --compute: keep checkpoints on this "
                   "cluster storage (a path every node sees, or s3://…) instead of sending them back")
    s.add_argument("--follow", type=int, metavar="RUN", help="follow a cluster run again "
                   "(after its window was closed)")
    s.add_argument("--allow-download", action="store_true",
                   help="download missing pretrained weights (also KESTREL_ALLOW_DOWNLOAD=1)")
    s.add_argument("--weights-mirror", metavar="URL",
                   help="base URL serving torchvision's weight files (also KESTREL_WEIGHTS_MIRROR)")

    s = sub.add_parser("runs", help="the project's training runs")
    s.add_argument("project")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("predict", help="store a run's predictions; optionally a COCO results file")
    s.add_argument("project")
    s.add_argument("--run", type=int, required=True, help="run id (see `kestrel runs`)")
    s.add_argument("--media", nargs="+", metavar="MEDIA", help="only these media (id or name)")
    s.add_argument("--coco-results", metavar="FILE", help="write the detections as COCO results JSON")
    s.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    s.add_argument("--score", type=float, default=0.05, help="keep detections scoring at least this")
    s.add_argument("--add-classes", action="store_true",
                   help="create classes the model knows and the project lacks (default: leave "
                        "their predictions out)")
    s.add_argument("--quiet", action="store_true", help="no progress display")
    _compute_options(s)
    add_search_parsers(sub)  # embed, search, classify
    add_next_parsers(sub)    # next, suspects, duplicates
    add_doctor_parser(sub)
    return p


def _compute_options(s) -> None:
    s.add_argument("--compute", metavar="ADDRESS", default=None,
                   help="run on a Ray cluster: ray://HOST:10001 or http://HOST:8265 "
                        "(default: this machine; needs pip install -e \".[cluster]\")")
    s.add_argument("--workers", type=int, default=2, help="with --compute: Ray workers")


def _window_options(s) -> None:
    s.add_argument("--screenshot", metavar="PNG", help="render the window offscreen, save it, exit")
    s.add_argument("--goto", metavar="MEDIA", help="open at this media item (id or file name)")


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.command is None:
            from app.shell.startup import run

            return run()
        try:
            code = COMMANDS[args.command](args) or 0
            sys.stdout.flush()   # a closed pipe shows here, inside the handler below
            return code
        except (UserError, ProjectError, FormatError, FileNotFoundError, ValueError) as exc:
            print(f"kestrel: error: {exc}", file=sys.stderr)
            return 2
        except StoreError as exc:       # damage found mid-command, a full disk, a busy project
            print(f"kestrel: error: {store_problem(exc, getattr(args, 'project', None))}",
                  file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("kestrel: interrupted", file=sys.stderr)
            return 130
    except BrokenPipeError:
        return _pipe_closed()


def _pipe_closed() -> int:
    """The reader went away (``kestrel … | head``): end quietly, as a Unix tool does.
    stdout is pointed at devnull so that the interpreter's final flush stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141   # 128 + SIGPIPE, what a tool killed by the signal reports


def cmd_new(args) -> None:
    with Project.create(args.project) as project:
        print(f"created project {project.root}")


def cmd_info(args) -> None:
    with Project.open(args.project) as project:
        info = project.info()
    if args.json:
        print(json.dumps(info, indent=2))
        return
    print(f"project  {info['project']}")
    print(f"images   {info['images']}")
    print(f"videos   {info['videos']} ({info['frames']} frames)")
    print(f"boxes    {info['boxes']}")
    for name, n in info["boxes_per_class"].items():
        print(f"  {name:<20} {n}")
    print(f"tags     {len(info['tags'])}")
    for name, n in info["tags"].items():
        print(f"  {name:<20} {n}")
    print(f"runs     {info['runs']}")


def cmd_demo(args) -> int:
    from app.shell.demo import make_demo

    folder = Path(args.dir) if args.dir else Path.home() / "kestrel-demo"
    if (folder / "kestrel.db").exists():
        print(f"opening the existing demo project {folder}")
    else:
        make_demo(folder).close()
        print(f"made a demo project in {folder}")
    if args.no_window:
        cmd_info(argparse.Namespace(project=str(folder), json=False))
        return 0
    return cmd_open(argparse.Namespace(project=str(folder), screenshot=args.screenshot, goto=args.goto))


def cmd_open(args) -> int:
    from app.shell.startup import run

    try:
        Project.open(args.project).close()  # a missing project is a one-line user error
    except ProjectDamaged:
        pass                                # the window says so and offers the restore
    return run(args.project, screenshot=args.screenshot, goto=args.goto)


def cmd_train(args) -> int:
    from app.runs.cli import TrainError, train

    try:
        return train(args.project, args.template, args.sets, args.device, resume_run=args.resume,
                     quiet=args.quiet, gpus=args.gpus, compute=args.compute,
                     workers=args.workers, storage=args.storage, follow=args.follow,
                     allow_download=args.allow_download, mirror=args.weights_mirror)
    except TrainError as exc:
        raise UserError(str(exc)) from None


def cmd_runs(args) -> int:
    from app.runs.cli import list_runs

    return list_runs(args.project, as_json=args.json)


def cmd_predict(args) -> int:
    from app.predictions.cli import PredictError, predict

    try:
        return predict(args.project, args.run, args.media, args.coco_results, args.device,
                       args.quiet, args.score, args.add_classes, compute=args.compute,
                       workers=args.workers)
    except PredictError as exc:
        raise UserError(str(exc)) from None


COMMANDS = {
    "new": cmd_new,
    **DATASET_COMMANDS,
    "info": cmd_info,
    "demo": cmd_demo,
    "open": cmd_open,
    "train": cmd_train,
    "predict": cmd_predict,
    "runs": cmd_runs,
    **SEARCH_COMMANDS,
    **NEXT_COMMANDS,
    **DOCTOR_COMMANDS,
}
