"""Box geometry helpers, without Qt."""
import sys

import pytest
from hypothesis import given, strategies as st

from widgets import shapes as sh
from widgets.shapes import BoxShape


def box(i=1, rect=(10, 20, 110, 70), **kw):
    return BoxShape(i, *rect, class_id=0, label="cat", color="#ff0000", **kw)


def test_module_is_qt_free():
    assert not any(name.startswith("PySide6") for name in sh.__dict__)
    src = open(sh.__file__).read()
    assert "PySide6" not in src and "Qt" not in src.replace("Qt-free", "")


def test_normalized_and_clamp():
    assert sh.normalized((50, 60, 10, 5)) == (10, 5, 50, 60)
    assert sh.clamp_rect((-10, 50, 500, -3), 400, 300) == (0, 0, 400, 50)


def test_is_tiny():
    assert sh.is_tiny((10, 10, 11.5, 40))
    assert sh.is_tiny((10, 10, 40, 10))
    assert not sh.is_tiny((10, 10, 12, 12))


def test_handles_and_hit():
    pts = sh.handle_points((0, 0, 100, 50))
    assert pts["nw"] == (0, 0) and pts["se"] == (100, 50) and pts["e"] == (100, 25)
    assert sh.hit_handle((0, 0, 100, 50), 98, 49, tolerance=3) == "se"
    assert sh.hit_handle((0, 0, 100, 50), 51, 1, tolerance=3) == "n"
    assert sh.hit_handle((0, 0, 100, 50), 30, 30, tolerance=3) is None


def test_resize_crossing_edge_normalises():
    assert sh.resize_rect((10, 10, 50, 50), "e", 70, 999) == (10, 10, 70, 50)
    assert sh.resize_rect((10, 10, 50, 50), "nw", 60, 5) == (50, 5, 60, 50)


def test_clamp_translation_keeps_group_inside():
    rects = [(10, 10, 50, 50), (300, 200, 390, 290)]
    assert sh.clamp_translation(rects, 100, 100, 400, 300) == (10, 10)
    assert sh.clamp_translation(rects, -100, 3, 400, 300) == (-10, 3)
    assert sh.clamp_translation([], 5, 5, 400, 300) == (0.0, 0.0)


def test_pick_box_prefers_smallest():
    outer, inner = box(1, (0, 0, 200, 200)), box(2, (50, 50, 80, 80))
    assert sh.pick_box([outer, inner], 60, 60).id == 2
    assert sh.pick_box([outer, inner], 10, 10).id == 1
    assert sh.pick_box([outer, inner], 300, 10) is None


def test_caption():
    assert box().caption == "cat"
    assert box(track_id=7).caption == "cat #7"
    assert box(source="predicted", score=0.912).caption == "cat 0.91"
    assert box(source="manual", score=0.5).caption == "cat"
    assert box().with_rect((1, 2, 3, 4)).rect == (1, 2, 3, 4)


coord = st.floats(-500, 1500, allow_nan=False)


@given(coord, coord, coord, coord)
def test_clamp_rect_always_inside(x1, y1, x2, y2):
    r = sh.clamp_rect((x1, y1, x2, y2), 640, 480)
    assert 0 <= r[0] <= r[2] <= 640 and 0 <= r[1] <= r[3] <= 480
