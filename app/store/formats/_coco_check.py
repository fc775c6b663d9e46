"""Validation of a parsed COCO file: every check names the field, so nothing later
meets bad data."""

from __future__ import annotations

import math
from pathlib import Path

from .labelset import SPLITS, STATUSES, FormatError

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


def _vocabulary(items: list, name: str, path: Path) -> tuple[dict[int, str], dict[str, str]]:
    """{id: name} and {name: supercategory}."""
    out: dict[int, str] = {}
    supers: dict[str, str] = {}
    for where, e in _entries(items, name, ("id", "name"), path):
        if not _is_int(e["id"]) or e["id"] in out:
            raise FormatError(path, f"id {e['id']!r} is not a unique integer", f"{where}.id")
        if not isinstance(e["name"], str) or not e["name"].strip() or e["name"] in out.values():
            raise FormatError(path, f"name {e['name']!r} is not a unique non-empty string",
                              f"{where}.name")
        out[e["id"]] = e["name"]
        supers[e["name"]] = str(e.get("supercategory") or "")
    return out, supers


def _image_id(v: object) -> bool:
    return _is_int(v) or (isinstance(v, str) and bool(v))


def validate(data: object, path: Path):
    """Returns {category id: name}, {category name: supercategory}, {tag id: name}
    (vocabularies by id) and {id(annotation): its index in the file}, for messages."""
    if not isinstance(data, dict):
        raise FormatError(path, f"expected a JSON object at top level, got {type(data).__name__}")
    cats, supers = _vocabulary(_list(data, "categories", path, False), "categories", path)
    tags, _ = _vocabulary(_list(data, "kestrel_tags", path, False), "kestrel_tags", path)
    cats, tags = dict(sorted(cats.items())), dict(sorted(tags.items()))
    image_ids: set = set()
    names: set[str] = set()
    images = _list(data, "images", path, True)
    for where, im in _entries(images, "images", ("id", "file_name"), path):
        if not _image_id(im["id"]) or im["id"] in image_ids:
            raise FormatError(path, f"id {im['id']!r} is not a unique integer or string",
                              f"{where}.id")
        image_ids.add(im["id"])
        fn = im["file_name"]
        if not isinstance(fn, str) or not fn or fn in names:
            raise FormatError(path, f"{fn!r} is not a unique non-empty string",
                              f"{where}.file_name")
        names.add(fn)
        for k in ("width", "height"):
            v = im.get(k)
            if v is None and k not in im:
                continue   # read from the image itself
            if not _is_num(v) or not float(v).is_integer() or v <= 0:
                raise FormatError(path, f"{v!r} is not a positive integer", f"{where}.{k}")
        t = im.get("kestrel_tags", [])
        if not isinstance(t, list) or any(not _is_int(x) or x not in tags for x in t):
            raise FormatError(path, f"expected a list of kestrel_tags ids, got {t!r}",
                              f"{where}.kestrel_tags")
        if im.get("kestrel_status") not in (None, *STATUSES):
            raise FormatError(path, f"expected one of {', '.join(STATUSES)}, got "
                              f"{im['kestrel_status']!r}", f"{where}.kestrel_status")
        if im.get("kestrel_split") not in (None, *SPLITS):
            raise FormatError(path, f"expected one of {', '.join(SPLITS)}, got "
                              f"{im['kestrel_split']!r}", f"{where}.kestrel_split")
    ann_index: dict[int, int] = {}
    ann_ids: set = set()
    anns = _list(data, "annotations", path, False)
    for where, a in _entries(anns, "annotations", ("image_id", "category_id"), path):
        if "id" in a:
            if not _image_id(a["id"]) or a["id"] in ann_ids:
                raise FormatError(path, f"id {a['id']!r} is not a unique integer", f"{where}.id")
            ann_ids.add(a["id"])
        ann_index[id(a)] = len(ann_index)
        if not _image_id(a["image_id"]) or a["image_id"] not in image_ids:
            raise FormatError(path, f"unknown image id {a['image_id']!r}", f"{where}.image_id")
        if not _is_int(a["category_id"]) or a["category_id"] not in cats:
            raise FormatError(path, f"unknown category id {a['category_id']!r}",
                              f"{where}.category_id")
        _check_box(a, path, where)
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
    return cats, supers, tags, ann_index


def _check_box(a: dict, path: Path, where: str) -> None:
    """A ``bbox`` of 4 numbers, or none (or ``[]``) with a segmentation to take it from."""
    b = a.get("bbox")
    if b is None or b == []:
        if a.get("segmentation") in (None, [], {}):
            raise FormatError(path, "missing required key (no bbox and no segmentation)",
                              f"{where}.bbox")
        return
    if not isinstance(b, list) or len(b) != 4 or not all(_is_num(v) for v in b):
        raise FormatError(path, f"expected 4 numbers, got {b!r}", f"{where}.bbox")
    if b[2] < 0 or b[3] < 0:
        raise FormatError(path, f"negative width or height in {b!r}", f"{where}.bbox")
