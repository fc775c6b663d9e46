"""``kestrel import`` and ``kestrel export``: datasets in and out of a project.

Errors a user can fix are ``DatasetError`` (a ``ValueError``): the ``kestrel``
dispatcher prints them as one line and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path

from app.store.project import Project


class DatasetError(ValueError):
    """A user error, reported by ``kestrel`` as one line with exit code 2."""


def add_dataset_parsers(sub) -> None:
    s = sub.add_parser("import", help="import media files/folders or a labelled dataset")
    s.add_argument("project")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--format", default="auto", choices=["auto", "media", "coco", "voc", "yolo"])
    s.add_argument("--images", help="image folder of a COCO file (default: beside it)")

    s = sub.add_parser("export", help="export labels and images as a dataset")
    s.add_argument("project")
    s.add_argument("out")
    s.add_argument("--format", required=True, choices=["coco", "voc", "yolo"])
    s.add_argument("--overwrite", action="store_true",
                   help="replace OUT if it is a previous Kestrel export")
    s.add_argument("--labelled-only", action="store_true", help="leave out images with no boxes")


def cmd_import(args) -> None:
    from app.store.dataset_io import import_labelset
    from app.store.formats import detect_format, read_labels

    with Project.open(args.project) as project:
        media_paths = []
        for raw in args.paths:
            path = Path(raw)
            if not path.exists():
                raise DatasetError(f"{path}: no such file or folder")
            fmt = detect_format(path) if args.format == "auto" else args.format
            if fmt == "media":
                media_paths.append(path)
                continue
            labelset = read_labels(path, fmt)
            image_root = args.images or labelset.image_root
            if image_root is None:
                raise DatasetError(f"{path}: cannot tell where its images are; name the folder with --images")
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
            raise DatasetError(str(exc)) from None
    print(f"exported {counts['images']} images, {counts['boxes']} boxes as {args.format} to {counts['path']}")


DATASET_COMMANDS = {"import": cmd_import, "export": cmd_export}
