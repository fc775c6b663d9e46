"""``kestrel import`` and ``kestrel export``: datasets in and out of a project.

Errors a user can fix are ``DatasetError`` (a ``ValueError``) and ``FormatError``: the
``kestrel`` dispatcher prints them as one line and exits with code 2. Every import
prints its summary (app/datasets/importer.py); a folder that looks labelled but gave
no labels gets a WARNING on stderr.
"""

from __future__ import annotations

import sys

from app.datasets.plan import KINDS, DatasetError, plan_import
from app.store.project import Project

__all__ = ["DATASET_COMMANDS", "DatasetError", "add_dataset_parsers"]


def add_dataset_parsers(sub) -> None:
    s = sub.add_parser("import", help="import media files/folders or a labelled dataset",
                       description="Point it at the dataset folder: COCO, Pascal VOC, YOLO, "
                       "labelme and class-per-folder sets are found wherever they are in it.")
    s.add_argument("project")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--format", default="auto", choices=["auto", "media", *KINDS],
                   help="only this kind of labels (media: images and videos, no labels)")
    s.add_argument("--annotations", action="append", default=[], metavar="FILE",
                   help="use this label file (or folder) when several describe the same images")
    s.add_argument("--images", help="where the images of a COCO file are (default: found)")
    s.add_argument("--allow-outside", action="store_true",
                   help="follow label files that point at images outside the dataset folder")

    s = sub.add_parser("export", help="export labels and images as a dataset")
    s.add_argument("project")
    s.add_argument("out")
    s.add_argument("--format", required=True, choices=["coco", "voc", "yolo"])
    s.add_argument("--overwrite", action="store_true",
                   help="replace OUT if it is a previous Kestrel export")
    s.add_argument("--include-unlabelled", action="store_true",
                   help="also write images not labelled yet (by default only labelled ones go "
                   "out; an image marked 'no objects' is written without boxes)")


def cmd_import(args) -> int:
    """Every path is planned, imported and summarised; 2 when nothing came in."""
    from app.datasets.importer import conflict_message, nothing_message, run_import

    imported, reasons = False, []
    with Project.open(args.project) as project:
        for raw in args.paths:
            plan = plan_import(raw, args.format, args.annotations, args.images, args.allow_outside)
            if plan.conflicts:
                raise DatasetError(conflict_message(plan))
            summary = run_import(project, plan)
            for warning in summary.warnings:
                print(f"kestrel: WARNING: {warning}", file=sys.stderr)
            print("\n".join(summary.lines()))
            if summary.imported:
                imported = True
            else:
                reasons.append(nothing_message(plan, summary))
    if not imported:
        raise DatasetError("; ".join(reasons))
    return 0


def cmd_export(args) -> None:
    from app.store.exporter import ExportError, export_project

    with Project.open(args.project) as project:
        try:
            counts = export_project(project, args.out, args.format, overwrite=args.overwrite,
                                    include_unlabelled=args.include_unlabelled, per_split=True)
        except ExportError as exc:
            raise DatasetError(str(exc)) from None
        except OSError as exc:            # a full disk, a read-only folder: nothing is left
            from app.store.backup import describe

            raise DatasetError(f"cannot export to {args.out}: {describe(exc)}; "
                               "nothing was written") from None
    print(f"exported {counts['images']} images, {counts['boxes']} boxes as {args.format} to "
          f"{counts['path']}" + export_note(counts))


def export_note(counts: dict) -> str:
    """What an export says about status: negatives, images left out or included."""
    parts = []
    if counts.get("negatives"):
        parts.append(f"{counts['negatives']} with no objects")
    if counts.get("unlabelled"):
        parts.append(f"{counts['unlabelled']} not labelled")
    if counts.get("left_out"):
        parts.append(f"{counts['left_out']} not labelled left out (--include-unlabelled "
                     "writes them)")
    return f" ({'; '.join(parts)})" if parts else ""


DATASET_COMMANDS = {"import": cmd_import, "export": cmd_export}
