"""Writing a project out as a COCO, VOC or YOLO dataset folder.

The dataset is assembled in a temporary sibling folder and moved into place only
when complete, so a failed export never leaves a half-written dataset behind and
never touches an existing one unless asked to replace it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from app.store.dataset_io import ExportItem, export_labelset

FORMATS = ("coco", "voc", "yolo")
# Where each format keeps its images, relative to the dataset folder.
IMAGE_DIRS = {"coco": "images", "yolo": "images", "voc": "JPEGImages"}
COCO_FILE = "annotations.json"


class ExportError(RuntimeError):
    pass


def export_project(project, out: str | os.PathLike, fmt: str, *, overwrite: bool = False,
                   frames: dict[int, list[int]] | None = None, copy_images: bool = True,
                   include_unlabelled: bool = True, link_images: bool = False) -> dict:
    """Export labels (and images) to ``out``; returns counts of what was written.

    ``link_images`` hard-links image files instead of copying them where the file
    system allows (training run folders: self-contained at no cost in space).
    """
    from app.store.formats import write_labels

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    out = Path(out).expanduser().absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise ExportError(f"{out} already exists and is not empty (use --overwrite to replace it)")
    labelset, items = export_labelset(project, include_unlabelled=include_unlabelled, frames=frames)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if copy_images:
            write_images(items, staging / IMAGE_DIRS[fmt], link=link_images)
        write_labels(labelset, staging / COCO_FILE if fmt == "coco" else staging, fmt)
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"images": len(labelset.images), "boxes": labelset.box_count(),
            "classes": len(labelset.categories), "path": str(out)}


def write_images(items: list[ExportItem], folder: Path, link: bool = False) -> None:
    """Copy (or hard-link) image files and decode video frames into ``folder``."""
    by_video: dict[Path, list[ExportItem]] = {}
    for item in items:
        target = folder / item.image.file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        if item.frame is None:
            if not item.path.is_file():
                raise ExportError(f"{item.path}: image file is missing (moved or deleted?)")
            if link:
                try:
                    os.link(item.path, target)
                    continue
                except OSError:
                    pass  # another file system, or links not allowed: copy instead
            shutil.copy2(item.path, target)
        else:
            by_video.setdefault(item.path, []).append(item)
    for video, frame_items in by_video.items():
        _write_frames(video, sorted(frame_items, key=lambda i: i.frame), folder)


def _write_frames(video: Path, items: list[ExportItem], folder: Path) -> None:
    import cv2

    cap = cv2.VideoCapture(str(video))
    try:
        if not cap.isOpened():
            raise ExportError(f"{video}: cannot open video")
        position = -1
        for item in items:
            # Sequential reads are exact; seek only across gaps (grab() is cheap).
            if item.frame < position or item.frame - position > 64:
                cap.set(cv2.CAP_PROP_POS_FRAMES, item.frame)
                position = item.frame - 1
            while position < item.frame - 1:
                cap.grab()
                position += 1
            ok, frame = cap.read()
            position += 1
            if not ok:
                raise ExportError(f"{video}: cannot decode frame {item.frame}")
            if not cv2.imwrite(str(folder / item.image.file_name), frame, [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise ExportError(f"{folder / item.image.file_name}: cannot write frame image")
    finally:
        cap.release()
