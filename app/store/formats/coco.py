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
* Images need ``id``, ``file_name``, ``width`` and ``height``; annotations need
  ``id``, ``image_id``, ``category_id`` and ``bbox``. Boxes sticking out of the image
  are clamped to it; inverted boxes or boxes that miss the image are errors.
* Output: UTF-8, one image / annotation / category per line, keys in a fixed order,
  so export -> import -> export gives byte-identical files.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

from ._common import atomic_write, check_labelset, clamp_box
from .labelset import FormatError, LabelBox, LabelImage, LabelSet


def read_coco(path: str | Path) -> LabelSet:
    """Parse a COCO JSON file (or a folder holding exactly one ``*.json``)."""
    path = _resolve(Path(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text)
    except json.JSONDecodeError as e:
        where = f"line {e.lineno} column {e.colno}"
        raise FormatError(path, f"invalid JSON: {e.msg}", where) from None
    except (OSError, UnicodeDecodeError, RecursionError) as e:
        raise FormatError(path, f"cannot read: {e}") from None
    cats, tag_names, ann_index = _validate(data, path)

    from pycocotools.coco import COCO

    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):  # createIndex chatters on stdout
        coco.createIndex()

    ls = LabelSet(categories=list(cats.values()), tags=list(tag_names.values()))
    for i, img in enumerate(data["images"]):
        w, h = int(img["width"]), int(img["height"])
        tags = [tag_names[t] for t in img.get("kestrel_tags", [])]
        im = LabelImage(img["file_name"].replace("\\", "/"), w, h, tags=tags)
        for ann in coco.imgToAnns.get(img["id"], []):
            if ann.get("iscrowd", 0):
                continue
            x, y, bw, bh = (float(v) for v in ann["bbox"])
            where = f"annotations[{ann_index[ann['id']]}].bbox"
            x1, y1, x2, y2 = clamp_box(x, y, x + bw, y + bh, w, h, path, where)
            im.boxes.append(LabelBox(
                cats[ann["category_id"]], x1, y1, x2, y2,
                track_id=_track_id(ann), score=_score(ann),
            ))
        ls.images.append(im)
    ls.image_root = _image_root(path, ls)
    return ls


def write_coco(labelset: LabelSet, path: str | Path) -> None:
    """Write ``labelset`` as COCO JSON at ``path`` (atomically)."""
    path = Path(path)
    check_labelset(labelset, path)
    cat_id = {c: i for i, c in enumerate(labelset.categories, 1)}
    tag_id = {t: i for i, t in enumerate(labelset.tags, 1)}
    images, anns = [], []
    for img_id, im in enumerate(labelset.images, 1):
        entry = {"id": img_id, "file_name": im.file_name, "width": im.width, "height": im.height}
        if im.tags:
            entry["kestrel_tags"] = [tag_id[t] for t in im.tags]
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


# ---- validation: every check names the field, so pycocotools never sees bad data ----

def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: object) -> bool:
    if _is_int(v):
        return abs(v) < 2**53  # beyond this a float cannot hold it exactly
    return isinstance(v, float) and math.isfinite(v)


def _list(obj: dict, key: str, path: Path, required: bool) -> list:
    if key not in obj:
        if required:
            raise FormatError(path, "missing required key", key)
        return []
    v = obj[key]
    if not isinstance(v, list):
        raise FormatError(path, f"expected a list, got {type(v).__name__}", key)
    return v


def _entries(items: list, name: str, keys: tuple[str, ...], path: Path):
    for i, e in enumerate(items):
        where = f"{name}[{i}]"
        if not isinstance(e, dict):
            raise FormatError(path, f"expected an object, got {type(e).__name__}", where)
        for k in keys:
            if k not in e:
                raise FormatError(path, "missing required key", f"{where}.{k}")
        yield where, e


def _vocabulary(items: list, name: str, path: Path) -> dict[int, str]:
    out: dict[int, str] = {}
    for where, e in _entries(items, name, ("id", "name"), path):
        if not _is_int(e["id"]) or e["id"] in out:
            raise FormatError(path, f"id {e['id']!r} is not a unique integer", f"{where}.id")
        if not isinstance(e["name"], str) or not e["name"] or e["name"] in out.values():
            raise FormatError(path, f"name {e['name']!r} is not a unique non-empty string",
                              f"{where}.name")
        out[e["id"]] = e["name"]
    return out


def _validate(data: object, path: Path) -> tuple[dict[int, str], dict[int, str], dict[int, int]]:
    """Returns {category id: name}, {tag id: name} (both by id) and {annotation id:
    its index in the file}, for error messages."""
    if not isinstance(data, dict):
        raise FormatError(path, f"expected a JSON object at top level, got {type(data).__name__}")
    cats = _vocabulary(_list(data, "categories", path, False), "categories", path)
    tags = _vocabulary(_list(data, "kestrel_tags", path, False), "kestrel_tags", path)
    cats, tags = dict(sorted(cats.items())), dict(sorted(tags.items()))
    image_ids: set[int] = set()
    names: set[str] = set()
    images = _list(data, "images", path, True)
    for where, im in _entries(images, "images", ("id", "file_name", "width", "height"), path):
        if not _is_int(im["id"]) or im["id"] in image_ids:
            raise FormatError(path, f"id {im['id']!r} is not a unique integer", f"{where}.id")
        image_ids.add(im["id"])
        fn = im["file_name"]
        if not isinstance(fn, str) or not fn or fn in names:
            raise FormatError(path, f"{fn!r} is not a unique non-empty string",
                              f"{where}.file_name")
        names.add(fn)
        for k in ("width", "height"):
            v = im[k]
            if not _is_num(v) or not float(v).is_integer() or v <= 0:
                raise FormatError(path, f"{v!r} is not a positive integer", f"{where}.{k}")
        t = im.get("kestrel_tags", [])
        if not isinstance(t, list) or any(not _is_int(x) or x not in tags for x in t):
            raise FormatError(path, f"expected a list of kestrel_tags ids, got {t!r}",
                              f"{where}.kestrel_tags")
    ann_ids: dict[int, int] = {}
    anns = _list(data, "annotations", path, False)
    for where, a in _entries(anns, "annotations", ("id", "image_id", "category_id", "bbox"), path):
        if not _is_int(a["id"]) or a["id"] in ann_ids:
            raise FormatError(path, f"id {a['id']!r} is not a unique integer", f"{where}.id")
        ann_ids[a["id"]] = len(ann_ids)
        if not _is_int(a["image_id"]) or a["image_id"] not in image_ids:
            raise FormatError(path, f"unknown image id {a['image_id']!r}", f"{where}.image_id")
        if not _is_int(a["category_id"]) or a["category_id"] not in cats:
            raise FormatError(path, f"unknown category id {a['category_id']!r}",
                              f"{where}.category_id")
        b = a["bbox"]
        if not isinstance(b, list) or len(b) != 4 or not all(_is_num(v) for v in b):
            raise FormatError(path, f"expected 4 numbers, got {b!r}", f"{where}.bbox")
        if b[2] < 0 or b[3] < 0:
            raise FormatError(path, f"negative width or height in {b!r}", f"{where}.bbox")
        if a.get("iscrowd", 0) not in (0, 1):
            raise FormatError(path, f"expected 0 or 1, got {a['iscrowd']!r}", f"{where}.iscrowd")
        if "score" in a and not _is_num(a["score"]):
            raise FormatError(path, f"{a['score']!r} is not a number", f"{where}.score")
        attrs = a.get("attributes", {})
        if not isinstance(attrs, dict):
            raise FormatError(path, "expected an object", f"{where}.attributes")
        for key, v in (("attributes.track_id", attrs.get("track_id")),
                       ("track_id", a.get("track_id"))):
            if v is not None and not _is_int(v):
                raise FormatError(path, f"{v!r} is not an integer", f"{where}.{key}")
    return cats, tags, ann_ids
