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
from typing import Callable

from app.store import probe as _probe
from app.store.formats.labelset import FormatError, LabelBox, LabelImage, LabelSet


class Cancelled(Exception):
    """Raised by an import's ``check`` callback: nothing of that import is kept."""


@dataclass
class ImportItem:
    """One image of a dataset import, its file already found."""
    path: Path
    split: str | None = None
    boxes: list[LabelBox] = field(default_factory=list)  # pixels; clamped once ``size`` is known
    rows: list | None = None       # YOLO rows (normalised), turned into boxes after probing
    size: tuple[int, int] | None = None   # the size the label file gives, if any
    tags: list[str] = field(default_factory=list)
    label_file: Path | None = None
    name: str = ""                 # name in the project (and in exports)
    status: str | None = None      # None: labelled (no boxes: no objects); "unlabelled"; "review"


@dataclass
class LabelImportReport:
    images: int = 0
    new_media: int = 0
    boxes: int = 0
    duplicates: int = 0          # boxes already in the project, not added again
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (image, reason)
    classes: list[str] = field(default_factory=list)       # new classes
    classes_existing: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    splits: dict[str, int] = field(default_factory=dict)


def import_labelset(project, labelset: LabelSet, image_root: str | os.PathLike,
                    source: str | os.PathLike = "") -> LabelImportReport:
    """Add the images, classes, tags and boxes of ``labelset`` (file names relative to
    ``image_root``) to ``project`` atomically. ``source`` names the label file."""
    root = Path(image_root).expanduser().absolute()
    items = []
    for image in labelset.images:
        path = Path(image.file_name)
        items.append(ImportItem(path if path.is_absolute() else root / path, image.split,
                                image.boxes, size=(image.width, image.height), tags=image.tags,
                                name=image.file_name, label_file=Path(source) if source else None,
                                status=image.status))
    return import_items(project, items, labelset.categories, labelset.tags)


def import_items(project, items: list[ImportItem], categories: list[str], tags: list[str],
                 progress: Callable[[str, int, int], None] | None = None,
                 check: Callable[[], None] | None = None) -> LabelImportReport:
    """Probe every new image, then write media, classes, tags and boxes in one
    transaction. A missing or corrupt image is skipped with its reason; a box that
    misses its image fails the whole import (FormatError naming the label file).
    ``check`` is called often and may raise ``Cancelled``; ``progress(phase, done,
    total)`` reports how far it got."""
    known = project.media.path_index()
    ready, skipped = [], []
    total = len(items)
    for n, item in enumerate(items):
        if check and n % 16 == 0:
            check()
        stored = project.stored_path(item.path)
        if stored in known:
            media_id, w, h = known[stored]
            info = None
        else:
            try:
                info = _probe.probe(item.path)
            except _probe.ProbeError as exc:
                skipped.append((str(item.path), str(exc)))
                continue
            except OSError as exc:
                skipped.append((str(item.path), f"cannot read: {exc.strerror or exc}"))
                continue
            if info.kind != "image":
                skipped.append((str(item.path), "not an image"))
                continue
            media_id, w, h = None, info.width, info.height
            known[stored] = (0, w, h)   # a second entry for the same file adds no row
        ready.append((item, stored, media_id, info, _boxes(item, w, h)))
        if progress and (n % 64 == 0 or n == total - 1):
            progress("reading images", n + 1, total)

    report = LabelImportReport(images=len(ready), skipped=skipped)
    if not ready:   # nothing found: not even the classes are created
        return report
    with project.transaction():
        class_ids = _ensure(project.classes, categories + [b.category for *_, bs in ready for b in bs],
                            report.classes, report.classes_existing)
        tag_ids = _ensure(project.tags, tags + [t for it, *_ in ready for t in it.tags], report.tags, [])
        added: dict[str, int] = {}
        for n, (item, stored, media_id, info, boxes) in enumerate(ready):
            if check and n % 64 == 0:
                check()
            if media_id is None and stored in added:
                media_id = added[stored]
            if media_id is None:
                media_id = project.media.add_row(info, stored, item.name or item.path.name, item.split)
                added[stored] = media_id
                report.new_media += 1
                have: set = set()
            else:   # boxes the project had before: a second import does not double them
                if item.split:
                    project.media.set_split([media_id], item.split)
                have = {(b.class_id, b.frame, *_rounded(b.rect)) for b in project.boxes.of(media_id)}
            if item.split:
                report.splits[item.split] = report.splits.get(item.split, 0) + 1
            rows = []
            for box in boxes:
                key = (class_ids[box.category], 0, *_rounded((box.x1, box.y1, box.x2, box.y2)))
                if key in have:   # (identical boxes within one dataset are all kept)
                    report.duplicates += 1
                    continue
                rows.append(dict(media_id=media_id, class_id=class_ids[box.category], x1=box.x1,
                                 y1=box.y1, x2=box.x2, y2=box.y2, track_id=box.track_id))
            project.boxes.add(rows)
            report.boxes += len(rows)
            for tag in item.tags:
                project.tags.set(media_id, tag_ids[tag], True)
            _mark_status(project, media_id, item.status,
                         bool(rows) or (bool(have) and project.boxes.count(media_id) > 0))
            if progress and (n % 64 == 0 or n == len(ready) - 1):
                progress("writing", n + 1, len(ready))
    return report


def _mark_status(project, media_id: int, status: str | None, has_boxes: bool) -> None:
    """A labelled dataset says what its images hold: an image of it without boxes has
    no objects (unless the dataset says it is not labelled yet, or needs review)."""
    if status == "review":
        project.status.set_mark(media_id, 0, "review")
    elif status is None and not has_boxes:
        project.status.set_mark(media_id, 0, "empty")


def _ensure(repo, names: list[str], new: list[str], existing: list[str]) -> dict[str, int]:
    known = {c.name for c in repo.all()}
    ids: dict[str, int] = {}
    for name in names:
        if name not in ids:
            ids[name] = repo.ensure(name)
            (existing if name in known else new).append(name)
    return ids


def _boxes(item: ImportItem, w: int, h: int) -> list[LabelBox]:
    """Pixel boxes of an item on its ``w`` x ``h`` image: YOLO rows scaled, boxes from a
    label file without a size clamped now."""
    from app.store.formats._common import clamp_box

    where = str(item.label_file or item.path)
    if item.rows:
        tol = 1e-5 * max(w, h)   # YOLO's 6-decimal rounding, as its reader allows
        return [LabelBox(name, *clamp_box((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w,
                                          (cy + bh / 2) * h, w, h, where, f"line {n}", tol),
                         score=score)
                for name, cx, cy, bw, bh, score, n in item.rows]
    if item.size is None and item.boxes:
        return [LabelBox(b.category, *clamp_box(b.x1, b.y1, b.x2, b.y2, w, h, where, "box"),
                         b.track_id, b.score) for b in item.boxes]
    return item.boxes


def _rounded(rect) -> tuple:
    return tuple(round(v, 4) for v in rect)


@dataclass
class ExportItem:
    """One image of an export and where its pixels come from."""

    image: LabelImage
    media_id: int
    path: Path                 # the image file, or the video for a frame
    frame: int | None = None   # set for a video frame, which must be decoded and written


def export_labelset(project, include_unlabelled: bool = False,
                    frames: dict[int, list[int]] | None = None,
                    groups: bool = False, training: bool = False,
                    tagged: bool = False) -> tuple[LabelSet, list[ExportItem]]:
    """The project's manual and interpolated labels as a ``LabelSet``, with each
    picture's labelling status.

    Labelled pictures are written with their boxes (one marked "no objects" with none:
    a true negative). Pictures not labelled yet are left out unless
    ``include_unlabelled`` (then written with status "unlabelled"); ones needing review
    keep that status. ``training``: only labelled pictures, none needing review (with
    ``tagged``, for an embedder, tagged images too). ``frames`` maps a video's media id
    to the frame indices that belong to the dataset; those frames become images named
    ``<video name>/frame_000123.jpg``; with ``groups`` (a training export) they carry
    the video as their group, so a random split keeps them on one side, and images
    of one near-duplicate group (``project.next.groups``) carry theirs.
    """
    classes = project.classes.all()
    names = {c.id: c.name for c in classes}
    tag_names = {t.id: t.name for t in project.tags.all()}
    tags_of: dict[int, list[str]] = {}
    for media_id, tag_id in project.tags.pairs():
        tags_of.setdefault(media_id, []).append(tag_names[tag_id])
    boxes_of: dict[tuple[int, int], list[LabelBox]] = {}
    for row in project.conn.execute(
        "SELECT media_id, frame, class_id, x1, y1, x2, y2, track_id FROM boxes "
        "WHERE source != 'predicted' ORDER BY media_id, frame, id"
    ):
        media_id, frame, class_id, x1, y1, x2, y2, track_id = row
        boxes_of.setdefault((media_id, frame), []).append(
            LabelBox(names[class_id], x1, y1, x2, y2, track_id=track_id))
    empty, review = project.status.marked("empty"), project.status.marked("review")

    def status(media_id: int, frame: int) -> str | None | bool:
        """The picture's status in the export, or False to leave it out."""
        if (media_id, frame) in review:
            return False if training else "review"
        if (media_id, frame) in boxes_of or (media_id, frame) in empty:
            return None
        if training:
            return "unlabelled" if tagged and media_id in tags_of else False
        return "unlabelled" if include_unlabelled else False

    labelset = LabelSet(categories=[c.name for c in classes], tags=list(tag_names.values()))
    splits = project.media.splits()   # a video's frames share its split
    near_dups = project.next.groups() if groups else {}
    items: list[ExportItem] = []
    used: set[str] = set()
    for media in project.media.list():
        path = project.resolve(media.path)
        if media.kind == "image":
            kept = status(media.id, 0)
            if kept is False:
                continue
            name = _unique(media.name, used)
            image = LabelImage(name, media.width, media.height, boxes_of.get((media.id, 0), []),
                               list(tags_of.get(media.id, [])), split=splits.get(media.id),
                               status=kept, group=_dup_group(near_dups.get(media.id)))
            items.append(ExportItem(image, media.id, path))
        else:
            stem = _unique(Path(media.name).with_suffix("").as_posix(), used)
            for frame in (frames or {}).get(media.id, []):
                kept = status(media.id, frame)
                if kept is False:
                    continue
                name = f"{stem}/frame_{frame:06d}.jpg"
                image = LabelImage(name, media.width, media.height, boxes_of.get((media.id, frame), []),
                                   list(tags_of.get(media.id, [])), split=splits.get(media.id),
                                   group=stem if groups else None, status=kept)
                items.append(ExportItem(image, media.id, path, frame))
    labelset.images = [item.image for item in items]
    return labelset, items


def _dup_group(number: int | None) -> str | None:
    return None if number is None else f"near-duplicates-{number}"


def _unique(name: str, used: set[str]) -> str:
    """Keep export names unique: a second ``a.jpg`` becomes ``a-2.jpg``."""
    candidate, n = name, 1
    while candidate in used:
        n += 1
        p = Path(name)
        candidate = (p.parent / f"{p.stem}-{n}{p.suffix}").as_posix()
    used.add(candidate)
    return candidate
