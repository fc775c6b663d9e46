"""Turning each source into planned images: the image file found, its boxes, tags and
split. Entries whose image cannot be found are skipped with the reason; a label file
that is malformed or points outside the dataset raises a FormatError (the import is
refused, nothing is written).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.datasets.resolve import Resolver, Unresolved
from app.datasets.scan import IMAGE_DIR_NAMES, Inventory
from app.datasets.sources import ANNOTATION_DIRS, Source, folder_classes
from app.datasets.splits import SplitMap, path_split
from app.store.dataset_io import ImportItem
from app.store.formats import FormatError, LabelSet
from app.store.formats.coco import read_coco
from app.store.formats.labelme import parse_labelme
from app.store.formats.voc import names_file as voc_names, parse_voc_file
from app.store.formats.yolo import find_class_names, parse_label_file


@dataclass
class SourceResult:
    source: Source
    images: list[ImportItem] = field(default_factory=list)
    labels: LabelSet = field(default_factory=LabelSet)   # categories, tags, notes, skipped
    names_from: Path | None = None


def read_source(src: Source, inv: Inventory, resolver: Resolver, splits: SplitMap,
                images_opt: Path | None = None) -> SourceResult:
    reader = {"coco": _coco, "voc": _voc, "yolo": _yolo, "labelme": _labelme,
              "folders": _folders}[src.kind]
    res = SourceResult(src)
    reader(src, inv, resolver, res, images_opt)
    for im in res.images:
        im.split = im.split or splits.of(inv, im.path, _stem_key(inv, im.path)) \
            or src.split or path_split(inv, im.path)
    return res


def _stem_key(inv: Inventory, path: Path) -> str:
    parts = list(inv.rel(path))
    while len(parts) > 1 and parts[0].lower() in IMAGE_DIR_NAMES:
        parts.pop(0)
    return str(Path(*parts).with_suffix("").as_posix())


def _find(resolver, res: SourceResult, hint: str, bases, label_file: Path, where: str,
          split=None) -> Path | None:
    try:
        return resolver.find(hint, bases, label_file, where, split)
    except Unresolved as e:
        res.labels.skipped.append((f"{label_file} ({where})", str(e)))
        return None


def _coco(src: Source, inv, resolver, res: SourceResult, images_opt) -> None:
    path = src.files[0]
    ls = read_coco(path, src.data[0] if src.data else None)
    res.labels = LabelSet(ls.categories, ls.tags, notes=ls.notes, dropped=ls.dropped)
    here = path.parent
    bases = ([images_opt] if images_opt else []) + [here, here / "images", here.parent,
                                                    here.parent / "images"]
    for i, im in enumerate(ls.images):
        found = _find(resolver, res, im.file_name, bases, path, f"images[{i}].file_name", src.split)
        if found is not None:
            res.images.append(ImportItem(found, im.split, im.boxes,
                                           size=(im.width, im.height) if im.width else None,
                                           tags=im.tags, label_file=path, status=im.status))


def _mirrors(xml_dir: Path) -> list[Path]:
    """Image folders an annotation folder stands for: ``Annotations`` -> ``JPEGImages``,
    ``annots`` -> ``images`` …, keeping sub-folders below it."""
    parts = xml_dir.parts
    out = []
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].lower() in ANNOTATION_DIRS:
            for name in ("JPEGImages", "images", "Images", "imgs", "img"):
                out.append(Path(*parts[:i], name, *parts[i + 1:]))
            break
    return out


def _voc(src: Source, inv, resolver, res: SourceResult, images_opt) -> None:
    ls = res.labels
    for folder in (src.anchor, src.anchor.parent, inv.root):
        for name in ("classes.txt", "class_names.txt"):
            if not ls.categories and (folder / name).is_file():
                ls.categories = voc_names(folder / name)
                res.names_from = folder / name
        if not ls.tags and (folder / "tags.txt").is_file():
            ls.tags = voc_names(folder / "tags.txt")
    for xml in src.files:
        rec = parse_voc_file(xml)
        bases = [xml.parent] + _mirrors(xml.parent)
        if rec.folder:
            bases += [xml.parent.parent / rec.folder, inv.root / rec.folder]
        try:
            found = resolver.find(rec.filename, bases, xml, "<filename>", src.split)
        except Unresolved as e:
            found = None
            if rec.image_path:   # last: <path>, often another machine's
                try:
                    found = resolver.find(rec.image_path, [xml.parent], xml, "<path>", src.split)
                except Unresolved:
                    pass
            if found is None:
                ls.skipped.append((f"{xml} (<filename>)", str(e)))
                continue
        for b in rec.boxes:
            if b.category not in ls.categories:
                ls.categories.append(b.category)
        res.images.append(ImportItem(found, boxes=rec.boxes, tags=rec.tags, label_file=xml,
                                       size=(rec.width, rec.height) if rec.width else None))
    for t in (t for im in res.images for t in im.tags):
        if t not in ls.tags:
            ls.tags.append(t)


def _labelme(src: Source, inv, resolver, res: SourceResult, images_opt) -> None:
    ls = res.labels
    for path, data in zip(src.files, src.data):
        rec = parse_labelme(path, data, ls)
        found = _find(resolver, res, rec.image_path, [path.parent], path, "imagePath", src.split)
        if found is None:
            continue
        for b in rec.boxes:
            if b.category not in ls.categories:
                ls.categories.append(b.category)
        res.images.append(ImportItem(found, boxes=rec.boxes, label_file=path,
                                       size=(rec.width, rec.height) if rec.width else None))


def _yolo(src: Source, inv: Inventory, resolver, res: SourceResult, images_opt) -> None:
    ls = res.labels
    names, res.names_from = _yolo_names(src, inv)
    ls.categories = list(names or [])
    labels_dir = src.anchor if src.images_dir != src.anchor else None
    used: set[Path] = set()
    if labels_dir is not None:
        images = [p for p in inv.images if src.images_dir in p.parents]
    else:
        images = [p for p in inv.images if p.parent == src.anchor]
    for img in images:
        if labels_dir is not None:
            rel = img.relative_to(src.images_dir).with_suffix(".txt")
            label = labels_dir / rel
        else:
            label = img.with_suffix(".txt")
        rows = None
        if label in used:
            raise FormatError(img, f"{label.name} would label two images with the same stem")
        if label.is_file():
            used.add(label)
            rows = parse_label_file(label, None if names is None else len(names), ls)
        # no label file: nobody labelled the image (an empty file says "no objects")
        res.images.append(ImportItem(img, rows=rows or [], label_file=label if rows is not None else None,
                                     status=None if rows is not None else "unlabelled"))
    # rows name their class: ids without a names list name themselves ("0", "1", …)
    top = max((r[0] for im in res.images for r in im.rows), default=-1)
    while len(ls.categories) <= top:
        ls.categories.append(str(len(ls.categories)))
    for im in res.images:
        im.rows = [(ls.categories[k], *rest) for k, *rest in im.rows]
    for txt in src.files:
        if txt not in used:
            ls.skipped.append((str(txt), "label file without an image"))
    if labels_dir is not None:   # labelImg's classes.txt copy inside labels/ is not a label
        for extra in sorted(labels_dir.rglob("classes.txt")):
            if extra != res.names_from:
                ls.skipped.append((str(extra), "class list not used"
                                   + (f" (names come from {res.names_from.name})" if res.names_from else "")))


def _yolo_names(src: Source, inv: Inventory) -> tuple[list[str] | None, Path | None]:
    """The nearest class-name list: a yaml with ``names`` or classes.txt / obj.names,
    from the label folder up to the dataset folder."""
    folder = src.anchor
    chain = [folder]
    while folder != inv.root and inv.root in folder.parents:
        folder = folder.parent
        chain.append(folder)
    for txt in (False, True):   # a yaml anywhere up the chain beats a classes.txt
        for d in chain:
            names, found = find_class_names(d, txt=txt)
            if names is not None:
                return names, found
    return None, None


def _folders(src: Source, inv: Inventory, resolver, res: SourceResult, images_opt) -> None:
    classes = folder_classes(inv) or {}
    res.labels.tags = sorted(set(classes.values()))
    for img in inv.images:
        if img.parent in classes:
            # a tag per folder says nothing about boxes: tagged, not labelled for boxes
            res.images.append(ImportItem(img, tags=[classes[img.parent]], status="unlabelled"))

