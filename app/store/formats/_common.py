"""Helpers shared by the format readers and writers: atomic writes, number parsing and
formatting, box clamping, image-size probing and label-set validation."""

from __future__ import annotations

import math
import operator
import os
import re
import tempfile
from pathlib import Path, PurePosixPath
from typing import Callable

from .labelset import FormatError, LabelSet

ImageSize = Callable[[Path], "tuple[int, int]"]

# Image suffixes recognised in YOLO folders (Ultralytics' list, lower case).
IMAGE_SUFFIXES = frozenset(
    ".bmp .dng .jpeg .jpg .mpo .png .tif .tiff .webp .pfm .heic".split()
)

_EXIF_ORIENTATION = 0x0112


def default_image_size(path: Path) -> tuple[int, int]:
    """(width, height) as displayed: Pillow reads only the header; EXIF orientations
    5-8 rotate by 90 degrees, so width and height swap."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
            try:
                orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
            except Exception:  # a broken EXIF block must not hide a readable size
                orientation = 1
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        raise FormatError(path, f"cannot read the image size: {exc}") from None
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def probe_size(image_size: ImageSize, path: Path) -> tuple[int, int]:
    """Call the caller's prober; whatever it raises for an unreadable image, or a
    non-positive size, becomes a FormatError naming the image."""
    try:
        w, h = image_size(path)
        w, h = operator.index(w), operator.index(h)  # ints, numpy ints; not floats
    except FormatError:
        raise
    except (OSError, ValueError, TypeError) as e:
        raise FormatError(path, f"cannot read the image size: {e}") from None
    if w <= 0 or h <= 0:
        raise FormatError(path, f"image size {w}x{h} is not positive")
    return w, h


def atomic_write(path: Path, data: str) -> None:
    """Write UTF-8 text via a temp file in the same folder and ``os.replace``, so a
    failure never leaves a half-written file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def fmt_num(v: float) -> str:
    """Up to 6 decimals without trailing zeros: 233 -> "233", 12.5 -> "12.5"."""
    s = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def parse_number(text: object, path: object, where: str) -> float:
    """A finite float from text, or a FormatError naming the field."""
    try:
        v = float(str(text).strip())
    except ValueError:
        raise FormatError(path, f"{text!r} is not a number", where) from None
    if not math.isfinite(v):
        raise FormatError(path, f"{text!r} is not a finite number", where)
    return v


def parse_int(text: object, path: object, where: str) -> int:
    """An integer from text; integral floats such as "3.0" are accepted."""
    v = parse_number(text, path, where)
    if not v.is_integer():
        raise FormatError(path, f"{text!r} is not an integer", where)
    return int(v)


def clamp_box(
    x1: float, y1: float, x2: float, y2: float, width: int, height: int,
    path: object, where: str, tol: float = 0.0,
) -> tuple[float, float, float, float]:
    """Check a pixel box against its image. Inverted boxes and boxes that miss the
    image are errors; parts sticking out by more than ``tol`` pixels are clamped to
    the image. ``tol`` lets YOLO's 6-decimal rounding through untouched, so a round
    trip does not drift. Zero-size boxes are kept (trainers filter them)."""
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        raise FormatError(path, "box coordinates are not finite", where)
    if x2 < x1 or y2 < y1:
        raise FormatError(path, f"inverted box ({x1:g}, {y1:g}, {x2:g}, {y2:g})", where)
    if x2 < -tol or y2 < -tol or x1 > width + tol or y1 > height + tol:
        raise FormatError(
            path, f"box ({x1:g}, {y1:g}, {x2:g}, {y2:g}) lies outside the "
            f"{width}x{height} image", where)

    def clip(v: float, hi: int) -> float:
        if v < -tol:
            return 0.0
        if v > hi + tol:
            return float(hi)
        return v

    return clip(x1, width), clip(y1, height), clip(x2, width), clip(y2, height)


def check_relative(name: str, out: object, where: str) -> PurePosixPath:
    """A writer must never escape its output folder."""
    p = PurePosixPath(name)
    bad = not name or p.is_absolute() or ".." in p.parts or "\\" in name
    if bad or re.match(r"[A-Za-z]:", name):
        raise FormatError(out, f"file name {name!r} is not a relative posix path", where)
    return p


# Control characters, line separators (str.splitlines breaks on them), surrogates and
# non-characters cannot survive one-per-line text files or XML.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def _check_names(names: list[str], out: object, where: str) -> None:
    """Names go into one-per-line text files and XML text, which strip whitespace and
    cannot carry control characters."""
    if len(set(names)) != len(names):
        raise FormatError(out, "names must be unique", where)
    for n in names:
        if not n or n != n.strip() or _CONTROL.search(n):
            raise FormatError(out, f"{n!r}: names must be non-empty, without surrounding "
                              "spaces or control characters", where)


def check_labelset(ls: LabelSet, out: object) -> None:
    """Validate a label set before a writer touches the disk, so a bad one writes
    nothing at all."""
    _check_names(ls.categories, out, "categories")
    _check_names(ls.tags, out, "tags")
    cats, tags = set(ls.categories), set(ls.tags)
    seen: set[str] = set()
    for i, im in enumerate(ls.images):
        check_relative(im.file_name, out, f"images[{i}].file_name")
        if _CONTROL.search(im.file_name):
            raise FormatError(out, "control character in file name", f"images[{i}].file_name")
        if im.file_name in seen:
            raise FormatError(out, f"duplicate file name {im.file_name!r}", f"images[{i}]")
        seen.add(im.file_name)
        if im.width <= 0 or im.height <= 0:
            raise FormatError(out, "width and height must be positive", f"images[{i}]")
        for t in im.tags:
            if t not in tags:
                raise FormatError(out, f"unknown tag {t!r}", f"images[{i}].tags")
        for j, b in enumerate(im.boxes):
            where = f"images[{i}].boxes[{j}]"
            if b.category not in cats:
                raise FormatError(out, f"unknown category {b.category!r}", where)
            if not all(math.isfinite(v) for v in (b.x1, b.y1, b.x2, b.y2)):
                raise FormatError(out, "box coordinates must be finite", where)
            if b.x2 < b.x1 or b.y2 < b.y1:
                raise FormatError(out, "inverted box", where)
            if b.score is not None and not math.isfinite(b.score):
                raise FormatError(out, "score must be finite", where)
