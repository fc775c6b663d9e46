"""Writing a project out as a COCO, VOC or YOLO dataset folder.

The dataset is assembled in a temporary sibling folder and moved into place only
when complete, so a failed export never leaves a half-written dataset behind and
never touches an existing one unless asked to replace it. Every export carries a
small marker file (``EXPORT_MARKER``); ``overwrite`` replaces only a folder that has
one, and never the project folder, one of its ancestors or the home folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from app.store.dataset_io import ExportItem, export_labelset

FORMATS = ("coco", "voc", "yolo")
# Where each format keeps its images, relative to the dataset folder.
IMAGE_DIRS = {"coco": "images", "yolo": "images", "voc": "JPEGImages"}
COCO_FILE = "annotations.json"
EXPORT_MARKER = ".kestrel-export"


class ExportError(RuntimeError):
    pass


def export_project(project, out: str | os.PathLike, fmt: str, *, overwrite: bool = False,
                   frames: dict[int, list[int]] | None = None, copy_images: bool = True,
                   include_unlabelled: bool = False, link_images: bool = False,
                   per_split: bool = False, training: bool = False, tagged: bool = False,
                   check=None) -> dict:
    """Export labels (and images) to ``out``; returns counts of what was written.

    Labelled pictures go out with their boxes (none for one marked "no objects"); ones
    not labelled yet only with ``include_unlabelled``. ``training``: labelled pictures
    only, none needing review (``tagged``: tagged images too, for embedders); see
    ``export_labelset``. The counts say how many were left out as not labelled.

    ``link_images`` hard-links image files instead of copying them where the file
    system allows (training run folders: self-contained at no cost in space).
    ``frames`` (video media id → frame indices) defaults to each video's sampling.
    ``per_split``: when the project has its dataset's own split, write it the way each
    format keeps one: COCO ``annotations/instances_<split>.json``, YOLO
    ``images/<split>/`` + ``labels/<split>/`` with the yaml's train/val/test keys, VOC
    ``ImageSets/Main/<split>.txt`` (images without a split count as train, as in
    training). Otherwise one COCO file carries ``kestrel_split`` per image.
    ``check`` is called per image and may raise to cancel (nothing is left behind).
    """
    from app.store.formats import write_labels
    from app.store.sampling import dataset_frames

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    out = Path(out).expanduser().absolute()
    replace = out.exists() and (not out.is_dir() or any(out.iterdir()))
    if replace and not overwrite:
        raise ExportError(f"{out} already exists and is not empty (use --overwrite to replace it)")
    if replace:
        check_replaceable(out, project.root)
    if frames is None:
        frames = dataset_frames(project)
    labelset, items = export_labelset(project, include_unlabelled=include_unlabelled, frames=frames,
                                      groups=not per_split, training=training, tagged=tagged)
    if per_split and fmt == "yolo" and any(im.split for im in labelset.images):
        for im in labelset.images:   # YOLO keeps a split as a folder: images/<split>/name
            im.file_name = f"{im.split or 'train'}/{im.file_name}"
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if copy_images:
            write_images(items, staging / IMAGE_DIRS[fmt], link=link_images, check=check)
        if per_split and any(im.split for im in labelset.images):
            _write_split_labels(labelset, staging, fmt)
        else:
            write_labels(labelset, staging / COCO_FILE if fmt == "coco" else staging, fmt)
        (staging / EXPORT_MARKER).write_text(json.dumps({"kestrel_export": 1, "format": fmt}) + "\n")
        _swap_in(staging, out, replace)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    candidates = project.media.count("image") + sum(len(f) for f in frames.values())
    return {"images": len(labelset.images), "boxes": labelset.box_count(),
            "left_out": candidates - len(labelset.images),
            "classes": len(labelset.categories), "path": str(out),
            "negatives": sum(1 for im in labelset.images if not im.boxes and im.status is None),
            "unlabelled": sum(1 for im in labelset.images if im.status == "unlabelled")}


def _write_split_labels(labelset, staging: Path, fmt: str) -> None:
    from app.store.formats import LabelSet, write_coco, write_voc, write_yolo
    from app.store.formats._common import atomic_write

    present = [s for s in ("train", "val", "test")
               if any((im.split or "train") == s for im in labelset.images)]
    if fmt == "yolo":
        write_yolo(labelset, staging, splits=present)
        return
    if fmt == "voc":
        write_voc(labelset, staging)
        for split in present:
            stems = [Path(im.file_name).with_suffix("").as_posix() for im in labelset.images
                     if (im.split or "train") == split]
            atomic_write(staging / "ImageSets" / "Main" / f"{split}.txt",
                         "".join(f"{s}\n" for s in stems))
        return
    for split in present:
        part = LabelSet(labelset.categories, labelset.tags,
                        [im for im in labelset.images if (im.split or "train") == split])
        write_coco(part, staging / "annotations" / f"instances_{split}.json")


def check_replaceable(out: Path, project_root: Path) -> None:
    """Refuse to replace anything but a previous Kestrel export: never the project
    folder, a folder holding it, the home folder or a folder without the marker."""
    real = out.resolve()
    root = Path(project_root).resolve()
    if real == root or real in root.parents:
        raise ExportError(f"refusing to replace {out}: it holds the project {project_root}")
    if real == Path.home().resolve() or real in Path.home().resolve().parents:
        raise ExportError(f"refusing to replace {out}: it is the home folder or holds it")
    if out.is_symlink() or not out.is_dir() or not (out / EXPORT_MARKER).is_file():
        raise ExportError(f"refusing to replace {out}: it is not a Kestrel export "
                          f"(no {EXPORT_MARKER} marker); choose a new or empty folder")


def _swap_in(staging: Path, out: Path, replace: bool) -> None:
    """Move the finished export into place. A previous export is renamed aside first
    and deleted only once the new one is in place; if the second rename fails, the old
    one goes back, so ``out`` is never missing or half-written."""
    if not replace:
        os.replace(staging, out)   # ``out`` is absent or an empty folder
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.rename(out, old)
    try:
        os.rename(staging, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_images(items: list[ExportItem], folder: Path, link: bool = False, check=None) -> None:
    """Copy (or hard-link) image files and decode video frames into ``folder``."""
    by_video: dict[Path, list[ExportItem]] = {}
    for n, item in enumerate(items):
        if check and n % 16 == 0:
            check()
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
