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
    ``frames`` (video media id → frame indices) defaults to each video's sampling.
    """
    from app.store.formats import write_labels
    from app.store.sampling import dataset_frames

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    out = Path(out).expanduser().absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise ExportError(f"{out} already exists and is not empty (use --overwrite to replace it)")
    if frames is None:
        frames = dataset_frames(project)
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

    from app.store.video import VideoError, VideoReader

    try:
        # Items come sorted, so the reader decodes forward and seeks only across gaps;
        # a tiny cache: each frame is written once.
        with VideoReader(video, cache_frames=2) as reader:
            for item in items:
                if item.frame >= reader.frame_count:
                    raise ExportError(f"{video}: frame {item.frame} is past the end "
                                      f"({reader.frame_count} frames)")
                target = folder / item.image.file_name
                if not cv2.imwrite(str(target), reader.frame(item.frame),
                                   [cv2.IMWRITE_JPEG_QUALITY, 95]):
                    raise ExportError(f"{target}: cannot write frame image")
    except VideoError as exc:
        raise ExportError(str(exc)) from None
