"""Importing paths into a project (media files and folders, label sets)."""

from __future__ import annotations

from pathlib import Path

from app.store.dataset_io import import_labelset
from app.store.exporter import ExportError, export_project
from app.store.formats import FormatError, detect_format, read_labels


def import_paths(project, paths: list[str]) -> tuple[list[str], list[str]]:
    """Import media files/folders and label sets; returns (done lines, problem lines)."""
    done, problems, media = [], [], []
    for raw in paths:
        path = Path(raw)
        try:
            fmt = detect_format(path)
            if fmt == "media":
                media.append(path)
                continue
            labelset = read_labels(path, fmt)
            if labelset.image_root is None:
                problems.append(f"{path}: cannot tell where its images are (use kestrel import --images)")
                continue
            r = import_labelset(project, labelset, labelset.image_root, source=path)
            done.append(f"{path.name}: {fmt}, {r.images} images, {r.boxes} boxes")
            problems += [f"{image}: {reason}" for image, reason in r.skipped]
        except FormatError as exc:
            problems.append(str(exc))
    if media:
        report = project.media.import_files(media)
        done.append(f"{len(report.added)} media files added"
                    + (f", {len(report.already)} already in the project" if report.already else ""))
        problems += [f"{p}: {reason}" for p, reason in report.skipped]
    return done, problems
