"""Bounding boxes of segmentations: COCO polygons and RLE masks, YOLO-seg polygons,
labelme shapes. A box is all that Kestrel keeps of a mask."""

from __future__ import annotations

import math

from .labelset import FormatError


def points_box(xs: list[float], ys: list[float], path: object, where: str
               ) -> tuple[float, float, float, float]:
    if not xs or len(xs) != len(ys):
        raise FormatError(path, "a polygon needs at least one point", where)
    if not all(math.isfinite(v) for v in xs + ys):
        raise FormatError(path, "polygon coordinates are not finite", where)
    return min(xs), min(ys), max(xs), max(ys)


def segmentation_box(seg: object, path: object, where: str) -> tuple[float, float, float, float]:
    """COCO ``segmentation``: a list of flat polygons ``[[x, y, x, y, ...], ...]`` or
    an RLE ``{"size": [h, w], "counts": [...] | "..."}``."""
    if isinstance(seg, list):
        xs, ys = [], []
        for k, poly in enumerate(seg):
            if not isinstance(poly, list) or len(poly) < 2 or len(poly) % 2:
                raise FormatError(path, "expected a flat list of x, y numbers", f"{where}[{k}]")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in poly):
                raise FormatError(path, "polygon coordinates must be numbers", f"{where}[{k}]")
            xs += [float(v) for v in poly[0::2]]
            ys += [float(v) for v in poly[1::2]]
        return points_box(xs, ys, path, where)
    if isinstance(seg, dict):
        return _rle_box(seg, path, where)
    raise FormatError(path, f"expected polygons or an RLE mask, got {type(seg).__name__}", where)


def _rle_box(rle: dict, path: object, where: str) -> tuple[float, float, float, float]:
    from pycocotools import mask as mask_utils

    size, counts = rle.get("size"), rle.get("counts")
    if (not isinstance(size, list) or len(size) != 2
            or not all(isinstance(v, int) and v > 0 for v in size)):
        raise FormatError(path, f"RLE size must be [height, width], got {size!r}", f"{where}.size")
    try:
        if isinstance(counts, list):
            if not all(isinstance(c, int) and c >= 0 for c in counts) or sum(counts) != size[0] * size[1]:
                raise ValueError("counts do not add up to height x width")
            rle = mask_utils.frPyObjects(rle, *size)
        elif isinstance(counts, str):
            rle = {"size": size, "counts": counts.encode("ascii")}
        else:
            raise ValueError(f"counts must be a list or a string, got {type(counts).__name__}")
        x, y, w, h = (float(v) for v in mask_utils.toBbox(rle))
    except (ValueError, TypeError, UnicodeEncodeError) as e:
        raise FormatError(path, f"cannot read the RLE mask: {e}", f"{where}.counts") from None
    if w <= 0 or h <= 0:
        raise FormatError(path, "the mask is empty", where)
    return x, y, x + w, y + h
