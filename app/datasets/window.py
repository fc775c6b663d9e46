"""Import and export started from the window (menus, drag and drop)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

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


def import_into_window(window, paths: list[str]) -> None:
    QApplication.setOverrideCursor(Qt.WaitCursor)
    try:
        done, problems = import_paths(window.project, paths)
    finally:
        QApplication.restoreOverrideCursor()
    window.refresh_all()
    text = "\n".join(done) or "Nothing was imported."
    if problems:
        shown = problems[:20] + ([f"… and {len(problems) - 20} more"] if len(problems) > 20 else [])
        window.inform("Import", text + "\n\nSkipped:\n" + "\n".join(shown), warning=True)
    else:
        window.statusBar().showMessage(text, 6000)


def export_from_window(window, folder: str, fmt: str) -> None:
    QApplication.setOverrideCursor(Qt.WaitCursor)
    try:
        counts = export_project(window.project, folder, fmt)
    except (ExportError, FormatError, OSError) as exc:
        QApplication.restoreOverrideCursor()
        window.inform("Export failed", str(exc), warning=True)
        return
    QApplication.restoreOverrideCursor()
    window.statusBar().showMessage(
        f"exported {counts['images']} images, {counts['boxes']} boxes as {fmt} to {counts['path']}", 8000)
