"""Hypothesis strategies and helpers shared by the format tests."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import strategies as st

from app.store.formats import LabelBox, LabelImage, LabelSet

# Letters and digits of any script, plus a few separators: unicode and spaces in names.
_chars = st.characters(categories=("L", "N"), max_codepoint=0x2FFFF) | st.sampled_from(" -_()'")


def _name(max_size: int = 10):
    return st.text(_chars, min_size=1, max_size=max_size).map(str.strip).filter(bool)


names = st.lists(_name(), min_size=1, max_size=4, unique=True)
# 1-2 path segments, so sub-folders are exercised; one suffix, so YOLO stems stay unique
file_names = st.lists(_name(8), min_size=1, max_size=2).map(lambda p: "/".join(p) + ".jpg")


@st.composite
def boxes(draw, cats: list[str], w: int, h: int, extras: bool = True):
    x1 = draw(st.floats(0, w, allow_nan=False))
    y1 = draw(st.floats(0, h, allow_nan=False))
    x2 = draw(st.floats(x1, w, allow_nan=False))
    y2 = draw(st.floats(y1, h, allow_nan=False))
    track = draw(st.none() | st.integers(0, 10**6)) if extras else None
    score = draw(st.none() | st.floats(0, 1)) if extras else None
    return LabelBox(draw(st.sampled_from(cats)), x1, y1, x2, y2, track, score)


@st.composite
def labelsets(draw, extras: bool = True, max_images: int = 4):
    cats = draw(names)
    tags = draw(st.lists(_name(), max_size=3, unique=True)) if extras else []
    fns = draw(st.lists(file_names, min_size=0, max_size=max_images, unique=True))
    images = []
    for fn in fns:
        w, h = draw(st.integers(1, 5000)), draw(st.integers(1, 5000))
        bs = draw(st.lists(boxes(cats, w, h, extras), max_size=4))
        tg = draw(st.lists(st.sampled_from(tags), unique=True)) if tags else []
        images.append(LabelImage(fn, w, h, bs, tg))
    return LabelSet(cats, tags, images)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_same(a: LabelSet, b: LabelSet, tol: float = 1e-6, norm: bool = False,
                tags: bool = True, tracks: bool = True) -> None:
    """Equal label sets; box corners within ``tol`` (pixels, or normalised by the
    image size when ``norm``), images compared by file name."""
    assert a.categories == b.categories
    if tags:
        assert a.tags == b.tags
    ia = {im.file_name: im for im in a.images}
    ib = {im.file_name: im for im in b.images}
    assert ia.keys() == ib.keys()
    for fn, x in ia.items():
        y = ib[fn]
        assert (x.width, x.height) == (y.width, y.height)
        if tags:
            assert x.tags == y.tags
        assert len(x.boxes) == len(y.boxes)
        for p, q in zip(x.boxes, y.boxes):
            assert p.category == q.category
            sx, sy = (x.width, x.height) if norm else (1, 1)
            for u, v, s in ((p.x1, q.x1, sx), (p.y1, q.y1, sy), (p.x2, q.x2, sx), (p.y2, q.y2, sy)):
                assert math.isclose(u / s, v / s, abs_tol=tol), (fn, p, q)
            if tracks:
                assert p.track_id == q.track_id
            assert (p.score is None) == (q.score is None)
            if p.score is not None:
                assert math.isclose(p.score, q.score, abs_tol=tol)


def make_images(root: Path, ls: LabelSet) -> dict[str, tuple[int, int]]:
    """Empty stand-in image files under ``root`` and the sizes an ``image_size``
    callable should report for them (YOLO needs the images to exist)."""
    sizes = {}
    for im in ls.images:
        p = root / im.file_name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.touch()
        sizes[str(p.resolve())] = (im.width, im.height)
    return sizes


def sizer(sizes: dict[str, tuple[int, int]]):
    return lambda p: sizes[str(Path(p).resolve())]
