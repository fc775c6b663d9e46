"""The ``kestrel`` command line.

Exit codes: 0 on success, 2 with a one-line message on a user error (a missing
project, a malformed label file, a bad option). Heavy modules (Qt, torch) are
imported by the commands that need them, never at start-up.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

from app.durability.cli import DOCTOR_COMMANDS, add_doctor_parser
from app.search.cli import SEARCH_COMMANDS, add_search_parsers
from app.store.formats.labelset import FormatError
from app.store.project import Project, ProjectDamaged, ProjectError, store_problem


class UserError(Exception):
    """Reported as one line on stderr with exit code 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kestrel", description="Label, train and review vision models.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("new", help="create an empty project folder")
    s.add_argument("project")

    s = sub.add_parser("import", help="import media files/folders or a labelled dataset")
    s.add_argument("project")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--format", default="auto", choices=["auto", "media", "coco", "voc", "yolo"])
    s.add_argument("--images", help="image folder of a COCO file (default: beside it)")

    s = sub.add_parser("export", help="export labels and images as a dataset")
    s.add_argument("project")
    s.add_argument("out")
    s.add_argument("--format", required=True, choices=["coco", "voc", "yolo"])
    s.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    s.add_argument("--labelled-only", action="store_true", help="leave out images with no boxes")

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
    s.add_argument("--template", help="template name (see `python -m training templates`)")
    s.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="hyperparameter (repeatable)")
    s.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: the best there is)")
    s.add_argument("--gpus", type=int, default=1, help="GPUs for one run with torchrun (DDP)")
    s.add_argument("--resume", type=int, metavar="RUN", help="go on with a cancelled or failed run")
    s.add_argument("--quiet", action="store_true", help="no progress display")

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
    s.add_argument("--quiet", action="store_true", help="no progress display")
    add_search_parsers(sub)  # embed, search, classify
    add_doctor_parser(sub)
    return p


def _window_options(s) -> None:
    s.add_argument("--screenshot", metavar="PNG", help="render the window offscreen, save it, exit")
    s.add_argument("--goto", metavar="MEDIA", help="open at this media item (id or file name)")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        from app.shell.startup import run

        return run()
    try:
        return COMMANDS[args.command](args) or 0
    except (UserError, ProjectError, FormatError, FileNotFoundError, ValueError) as exc:
        print(f"kestrel: error: {exc}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:      # damage found mid-command, a full disk, a busy project
        print(f"kestrel: error: {store_problem(exc, getattr(args, 'project', None))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kestrel: interrupted", file=sys.stderr)
        return 130


def cmd_new(args) -> None:
    with Project.create(args.project) as project:
        print(f"created project {project.root}")


def cmd_import(args) -> None:
    from app.store.formats import detect_format, read_labels
    from app.store.dataset_io import import_labelset

    with Project.open(args.project) as project:
        media_paths = []
        for raw in args.paths:
            path = Path(raw)
            if not path.exists():
                raise UserError(f"{path}: no such file or folder")
            fmt = detect_format(path) if args.format == "auto" else args.format
            if fmt == "media":
                media_paths.append(path)
                continue
            labelset = read_labels(path, fmt)
            image_root = args.images or labelset.image_root
            if image_root is None:
                raise UserError(f"{path}: cannot tell where its images are; name the folder with --images")
            r = import_labelset(project, labelset, image_root, source=path)
            print(f"{path}: {fmt}: {r.images} images ({r.new_media} new), {r.boxes} boxes"
                  + (f", {r.duplicates} already present" if r.duplicates else "")
                  + (f", new classes: {', '.join(r.classes)}" if r.classes else ""))
            for image, reason in r.skipped:
                print(f"skipped {image}: {reason}")
        if media_paths:
            report = project.media.import_files(media_paths)
            print(f"imported {len(report.added)} media files"
                  + (f", {len(report.already)} already in the project" if report.already else ""))
            for path, reason in report.skipped:
                print(f"skipped {path}: {reason}")


def cmd_export(args) -> None:
    from app.store.exporter import ExportError, export_project

    with Project.open(args.project) as project:
        try:
            counts = export_project(project, args.out, args.format, overwrite=args.overwrite,
                                    include_unlabelled=not args.labelled_only)
        except ExportError as exc:
            raise UserError(str(exc)) from None
        except OSError as exc:            # a full disk, a read-only folder: nothing is left
            from app.store.backup import describe

            raise UserError(f"cannot export to {args.out}: {describe(exc)}; nothing was written") from None
    print(f"exported {counts['images']} images, {counts['boxes']} boxes as {args.format} to {counts['path']}")


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
                     quiet=args.quiet, gpus=args.gpus)
    except TrainError as exc:
        raise UserError(str(exc)) from None


def cmd_runs(args) -> int:
    from app.runs.cli import list_runs

    return list_runs(args.project, as_json=args.json)


def cmd_predict(args) -> int:
    from app.predictions.cli import PredictError, predict

    try:
        return predict(args.project, args.run, args.media, args.coco_results, args.device,
                       args.quiet, args.score)
    except PredictError as exc:
        raise UserError(str(exc)) from None


COMMANDS = {
    "new": cmd_new,
    "import": cmd_import,
    "export": cmd_export,
    "info": cmd_info,
    "demo": cmd_demo,
    "open": cmd_open,
    "train": cmd_train,
    "predict": cmd_predict,
    "runs": cmd_runs,
    **SEARCH_COMMANDS,
    **DOCTOR_COMMANDS,
}
