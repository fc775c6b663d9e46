"""Moving labels between a project and a format-neutral ``LabelSet``.

Import resolves and probes every image before it writes, then writes everything in
one transaction. A missing or corrupt image is skipped and listed with its reason
(as a media import does); the rest of the labels go in. A malformed label file has
already failed in its reader, before anything was written. Export turns the project into a ``LabelSet`` plus the
list of image files that belong beside it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from app.store import probe as _probe
from app.store.formats.labelset import FormatError, LabelBox, LabelImage, LabelSet


@dataclass
class LabelImportReport:
    images: int = 0
    new_media: int = 0
    boxes: int = 0
    duplicates: int = 0          # boxes already in the project, not added again
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (image, reason)
    classes: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def import_labelset(project, labelset: LabelSet, image_root: str | os.PathLike,
                    source: str | os.PathLike = "") -> LabelImportReport:
    """Add the images, classes, tags and boxes of ``labelset`` to ``project`` atomically.

    ``source`` names the label file or folder in error messages.
    """
    root = Path(image_root).expanduser().absolute()
    where = str(source or root)
    resolved, skipped = [], []
    for n, image in enumerate(labelset.images):
        path = Path(image.file_name)
        path = path if path.is_absolute() else root / path
        existing = project.media.by_path(path)
        if existing is not None:
            resolved.append((image, existing.id, None))
            continue
        try:
            info = _probe.probe(path)
        except _probe.ProbeError as exc:
            skipped.append((str(path), str(exc)))
            continue
        if info.kind != "image":
            raise FormatError(where, f"{image.file_name!r} is not an image", f"image {n}")
        resolved.append((image, None, info))

    report = LabelImportReport(images=len(resolved), skipped=skipped)
    with project.transaction():
        known_classes = {c.name for c in project.classes.all()}
        class_ids = {}
        for name in labelset.categories + [b.category for im in labelset.images for b in im.boxes]:
            if name not in class_ids:
                class_ids[name] = project.classes.ensure(name)
                if name not in known_classes:
                    report.classes.append(name)
                    known_classes.add(name)
        known_tags = {t.name for t in project.tags.all()}
        tag_ids = {}
        for name in labelset.tags + [t for im in labelset.images for t in im.tags]:
            if name not in tag_ids:
                tag_ids[name] = project.tags.ensure(name)
                if name not in known_tags:
                    report.tags.append(name)
                    known_tags.add(name)
        for image, media_id, info in resolved:
            if media_id is None:
                media_id = project.media.add_row(info, project.stored_path(info.path), image.file_name)
                report.new_media += 1
            have = {(b.class_id, b.frame, *_rounded(b.rect)) for b in project.boxes.of(media_id)}
            rows = []
            for box in image.boxes:
                key = (class_ids[box.category], 0, *_rounded((box.x1, box.y1, box.x2, box.y2)))
                if key in have:
                    report.duplicates += 1
                    continue
                have.add(key)
                rows.append(dict(media_id=media_id, class_id=class_ids[box.category], x1=box.x1,
                                 y1=box.y1, x2=box.x2, y2=box.y2, track_id=box.track_id))
            project.boxes.add(rows)
            report.boxes += len(rows)
            for tag in image.tags:
                project.tags.set(media_id, tag_ids[tag], True)
    return report


def _rounded(rect) -> tuple:
    return tuple(round(v, 4) for v in rect)


@dataclass
class ExportItem:
    """One image of an export and where its pixels come from."""

    image: LabelImage
    media_id: int
    path: Path                 # the image file, or the video for a frame
    frame: int | None = None   # set for a video frame, which must be decoded and written


def export_labelset(project, include_unlabelled: bool = True,
                    frames: dict[int, list[int]] | None = None) -> tuple[LabelSet, list[ExportItem]]:
    """The project's manual and interpolated labels as a ``LabelSet``.

    Images without boxes are kept (they are valid negatives for training) unless
    ``include_unlabelled`` is False. ``frames`` maps a video's media id to the frame
    indices that belong to the dataset; those frames become images named
    ``<video name>/frame_000123.jpg``.
    """
    classes = project.classes.all()
    names = {c.id: c.name for c in classes}
    tag_names = {t.id: t.name for t in project.tags.all()}
    tags_of: dict[int, list[str]] = {}
    for media_id, tag_id in project.conn.execute(
        "SELECT media_id, tag_id FROM media_tags ORDER BY media_id, tag_id"
    ):
        tags_of.setdefault(media_id, []).append(tag_names[tag_id])
    boxes_of: dict[tuple[int, int], list[LabelBox]] = {}
    for row in project.conn.execute(
        "SELECT media_id, frame, class_id, x1, y1, x2, y2, track_id FROM boxes "
        "WHERE source != 'predicted' ORDER BY media_id, frame, id"
    ):
        media_id, frame, class_id, x1, y1, x2, y2, track_id = row
        boxes_of.setdefault((media_id, frame), []).append(
            LabelBox(names[class_id], x1, y1, x2, y2, track_id=track_id))

    labelset = LabelSet(categories=[c.name for c in classes], tags=list(tag_names.values()))
    items: list[ExportItem] = []
    used: set[str] = set()
    for media in project.media.list():
        path = project.resolve(media.path)
        if media.kind == "image":
            boxes = boxes_of.get((media.id, 0), [])
            if not boxes and not include_unlabelled and media.id not in tags_of:
                continue
            name = _unique(media.name, used)
            image = LabelImage(name, media.width, media.height, boxes, list(tags_of.get(media.id, [])))
            items.append(ExportItem(image, media.id, path))
        else:
            stem = _unique(Path(media.name).with_suffix("").as_posix(), used)
            for frame in (frames or {}).get(media.id, []):
                name = f"{stem}/frame_{frame:06d}.jpg"
                image = LabelImage(name, media.width, media.height, boxes_of.get((media.id, frame), []),
                                   list(tags_of.get(media.id, [])))
                items.append(ExportItem(image, media.id, path, frame))
    labelset.images = [item.image for item in items]
    return labelset, items


def _unique(name: str, used: set[str]) -> str:
    """Keep export names unique: a second ``a.jpg`` becomes ``a-2.jpg``."""
    candidate, n = name, 1
    while candidate in used:
        n += 1
        p = Path(name)
        candidate = (p.parent / f"{p.stem}-{n}{p.suffix}").as_posix()
    used.add(candidate)
    return candidate
