"""labelme: one JSON file per image, ``{"imagePath", "imageWidth", "imageHeight",
"shapes": [{"label", "points", "shape_type"}]}``.

Every shape becomes its bounding box: rectangles exactly, polygons, lines and masks
by their extent, circles by centre and radius (the label set notes how many were not
rectangles). Points have no extent and are skipped; labels ``__ignore__`` /
``_background_`` are not objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from ._common import parse_number
from ._segment import points_box
from .coco import PLACEHOLDER_NAMES
from .labelset import FormatError, LabelBox, LabelSet


@dataclass
class LabelmeRecord:
    path: Path
    image_path: str
    width: int            # 0 when the file does not say
    height: int
    boxes: list[LabelBox] = field(default_factory=list)


def is_labelme(data: object) -> bool:
    return isinstance(data, dict) and isinstance(data.get("shapes"), list) and "imagePath" in data


def parse_labelme(path: Path, data: dict, ls: LabelSet) -> LabelmeRecord:
    """One labelme file; ``ls`` collects notes."""
    image = data.get("imagePath")
    if not isinstance(image, str) or not image.strip():
        raise FormatError(path, "missing or empty", "imagePath")
    size = []
    for key in ("imageWidth", "imageHeight"):
        v = data.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise FormatError(path, f"{v!r} is not a positive integer", key)
        size.append(v or 0)
    rec = LabelmeRecord(path, image.replace("\\", "/"), *size)
    for i, shape in enumerate(data["shapes"]):
        where = f"shapes[{i}]"
        if not isinstance(shape, dict):
            raise FormatError(path, "expected an object", where)
        label = shape.get("label")
        if not isinstance(label, str) or not label.strip():
            raise FormatError(path, "missing or empty", f"{where}.label")
        if label.strip() in PLACEHOLDER_NAMES:
            continue
        kind = shape.get("shape_type") or "polygon"
        pts = shape.get("points")
        if not isinstance(pts, list) or not all(isinstance(p, list) and len(p) == 2 for p in pts):
            raise FormatError(path, "expected a list of [x, y] points", f"{where}.points")
        xs = [parse_number(p[0], path, f"{where}.points") for p in pts]
        ys = [parse_number(p[1], path, f"{where}.points") for p in pts]
        if kind == "point" or kind == "points" or len(pts) < 2:
            ls.note("labelme point shapes skipped (no extent)")
            continue
        if kind == "circle":
            r = math.hypot(xs[1] - xs[0], ys[1] - ys[0])
            box = (xs[0] - r, ys[0] - r, xs[0] + r, ys[0] + r)
        else:
            box = points_box(xs, ys, path, f"{where}.points")
        if kind != "rectangle":
            ls.note("labelme polygons and other shapes imported as their bounding boxes")
        rec.boxes.append(LabelBox(label.strip(), *box))
    return rec
