"""COCO detection JSON, read through pycocotools and written deterministically.

Conventions (what Kestrel reads and writes):

* ``bbox`` is ``[x, y, w, h]`` in pixels; ``x1 = x``, ``x2 = x + w``. Written rounded
  to 6 decimals (integral values as integers), ``area = w * h``, ``iscrowd = 0``.
  Crowd regions (``iscrowd: 1``) are not object boxes and are skipped on import.
* Category ids are 1..N in class order; on import, categories are ordered by id.
* Track ids travel as ``"attributes": {"track_id": n}`` on an annotation (CVAT's
  style); a top-level ``"track_id"`` is read as well. Scores: optional ``"score"``.
* Image-level tags: a top-level ``"kestrel_tags": [{"id": 1, "name": "night"}, ...]``
  vocabulary (ids 1..T in tag order) plus a per-image ``"kestrel_tags": [1, 3]`` list
  of ids. Other COCO tools ignore both keys.
* Images need ``id`` and ``file_name`` (``width``/``height`` are read from the image
  when missing); annotations need ``image_id``, ``category_id`` and a ``bbox`` or a
  ``segmentation`` (polygons or RLE: its bounding box is used, and the label set
  notes how many). Boxes sticking out of the image are clamped to it; inverted boxes
  or boxes that miss the image are errors.
* Per image, ``"kestrel_split": "train" | "val" | "test"`` carries the dataset's own
  split and ``"kestrel_group"`` names images that must stay on one side of a random
  split (a video's frames); the trainer honours both, other tools ignore them.
* Per image, ``"kestrel_status": "unlabelled" | "review"`` says the image is not
  labelled yet or its labels need review; without it an image is labelled, and one
  without annotations is a true negative (no objects).
* Placeholder categories that no box uses are left out (listed in
  ``LabelSet.dropped``): Roboflow's superclass (category 0 whose name is every other
  category's supercategory) and labelme's ``_background_`` / ``__ignore__``.
* Output: UTF-8, one image / annotation / category per line, keys in a fixed order,
  so export -> import -> export gives byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path

from ._coco_check import validate
from ._common import atomic_write, check_labelset, clamp_box
from .labelset import FormatError, LabelBox, LabelImage, LabelSet


def load_json(path: Path) -> object:
    """The parsed file, or a FormatError naming the line and column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        return json.loads(text)
    except json.JSONDecodeError as e:
        where = f"line {e.lineno} column {e.colno}"
        raise FormatError(path, f"invalid JSON: {e.msg}", where) from None
    except (OSError, UnicodeDecodeError, RecursionError) as e:
        raise FormatError(path, f"cannot read: {e}") from None


def is_coco(data: object) -> bool:
    """Looks like COCO detection: an object with an ``images`` list and categories or
    annotations (a captions file has no categories, a labelme file no images)."""
    return (isinstance(data, dict) and isinstance(data.get("images"), list)
            and ("categories" in data or "annotations" in data))


def read_coco(path: str | Path, data: object = None) -> LabelSet:
    """Parse a COCO JSON file (or a folder holding exactly one ``*.json``); ``data``
    is the already parsed file, when the caller has it."""
    path = _resolve(Path(path))
    if data is None:
        data = load_json(path)
    cats, supers, tag_names, ann_index = validate(data, path)
    by_image: dict[object, list[dict]] = {}
    for ann in data.get("annotations", []):
        by_image.setdefault(ann["image_id"], []).append(ann)

    ls = LabelSet(tags=list(tag_names.values()))
    used: set[str] = set()
    for img in data["images"]:
        w, h = int(img.get("width") or 0), int(img.get("height") or 0)
        tags = [tag_names[t] for t in img.get("kestrel_tags", [])]
        im = LabelImage(img["file_name"].replace("\\", "/"), w, h, tags=tags,
                        split=img.get("kestrel_split"), status=img.get("kestrel_status"))
        for ann in by_image.get(img["id"], []):
            if ann.get("iscrowd", 0):
                ls.note("crowd regions skipped (not single objects)")
                continue
            i = ann_index[id(ann)]
            x1, y1, x2, y2 = _ann_box(ann, path, i, ls)
            if w and h:
                x1, y1, x2, y2 = clamp_box(x1, y1, x2, y2, w, h, path, f"annotations[{i}].bbox")
            name = cats[ann["category_id"]]
            used.add(name)
            im.boxes.append(LabelBox(name, x1, y1, x2, y2, track_id=_track_id(ann),
                                     score=_score(ann)))
        ls.images.append(im)
    ls.dropped = [c for c in cats.values() if c not in used and _placeholder(c, supers)]
    ls.categories = [c for c in cats.values() if c not in ls.dropped]
    ls.image_root = _image_root(path, ls)
    return ls


PLACEHOLDER_NAMES = frozenset({"_background_", "__background__", "__ignore__", "_ignore_"})


def _placeholder(name: str, supers: dict[str, str]) -> bool:
    """labelme's background names, or a Roboflow superclass: the supercategory of
    every other category."""
    others = [s for n, s in supers.items() if n != name]
    return name in PLACEHOLDER_NAMES or (bool(others) and all(s == name for s in others))


def _ann_box(ann: dict, path: Path, i: int, ls: LabelSet) -> tuple[float, float, float, float]:
    """x1, y1, x2, y2 from ``bbox``, else from the segmentation's extent."""
    b = ann.get("bbox")
    if b:
        x, y, bw, bh = (float(v) for v in b)
        return x, y, x + bw, y + bh
    from ._segment import segmentation_box

    box = segmentation_box(ann.get("segmentation"), path, f"annotations[{i}].segmentation")
    ls.note("boxes taken from segmentation polygons or masks")
    return box


def write_coco(labelset: LabelSet, path: str | Path) -> None:
    """Write ``labelset`` as COCO JSON at ``path`` (atomically)."""
    path = Path(path)
    check_labelset(labelset, path)
    cat_id = {c: i for i, c in enumerate(labelset.categories, 1)}
    tag_id = {t: i for i, t in enumerate(labelset.tags, 1)}
    images, anns = [], []
    for img_id, im in enumerate(labelset.images, 1):
        entry = {"id": img_id, "file_name": im.file_name, "width": im.width, "height": im.height}
        if im.split:
            entry["kestrel_split"] = im.split
        if im.group:
            entry["kestrel_group"] = im.group
        if im.tags:
            entry["kestrel_tags"] = [tag_id[t] for t in im.tags]
        if im.status:
            entry["kestrel_status"] = im.status
        images.append(entry)
        for b in im.boxes:
            x, y = _r(b.x1), _r(b.y1)
            w, h = _r(b.x2 - x), _r(b.y2 - y)
            ann = {"id": len(anns) + 1, "image_id": img_id, "category_id": cat_id[b.category],
                   "bbox": [x, y, w, h], "area": _r(w * h), "iscrowd": 0}
            if b.track_id is not None:
                ann["attributes"] = {"track_id": int(b.track_id)}
            if b.score is not None:
                ann["score"] = _r(b.score)
            anns.append(ann)
    sections = [
        ("info", {"description": "Kestrel export", "version": "1.0"}),
        ("licenses", []),
        ("categories", [{"id": i, "name": c, "supercategory": ""} for c, i in cat_id.items()]),
    ]
    if tag_id:
        sections.append(("kestrel_tags", [{"id": i, "name": t} for t, i in tag_id.items()]))
    sections += [("images", images), ("annotations", anns)]
    atomic_write(path, _dump(sections))


def _dump(sections: list[tuple[str, object]]) -> str:
    """One list element per line: diff-friendly, compact and deterministic."""
    one = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    parts = []
    for key, value in sections:
        if isinstance(value, list) and value:
            body = ",\n".join("    " + one(v) for v in value)
            parts.append(f"  {one(key)}: [\n{body}\n  ]")
        else:
            parts.append(f"  {one(key)}: {one(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _r(v: float) -> int | float:
    v = round(float(v), 6)
    return int(v) if v.is_integer() else v


def _score(ann: dict) -> float | None:
    return None if ann.get("score") is None else float(ann["score"])


def _track_id(ann: dict) -> int | None:
    attrs = ann.get("attributes")
    if isinstance(attrs, dict) and attrs.get("track_id") is not None:
        return attrs["track_id"]
    return ann.get("track_id")


def _resolve(path: Path) -> Path:
    if path.is_dir():
        found = sorted(path.glob("*.json"))
        if len(found) != 1:
            raise FormatError(path, f"expected one *.json file in the folder, found {len(found)}")
        return found[0]
    return path


def _image_root(path: Path, ls: LabelSet) -> str | None:
    """COCO does not say where images live: try the usual spots for the first image."""
    if not ls.images:
        return None
    first = ls.images[0].file_name
    for root in (path.parent, path.parent / "images", path.parent.parent,
                 path.parent.parent / "images"):
        if (root / first).is_file():
            return str(root.resolve())
    return None


