"""Keyframe interpolation, outside markers and the store helpers behind them."""

from __future__ import annotations

import pytest

from app.store import schema
from app.store.models import Box
from app.store.tracks import interpolate_track, rebuild_all, rebuild_interpolation


def _key(frame, rect, box_id=None, track=1, class_id=1):
    return Box(box_id or frame, 1, frame, class_id, *rect, track_id=track)


def test_linear_between_two_keyframes():
    rows = interpolate_track([_key(40, (100, 60, 140, 100)), _key(10, (10, 20, 50, 80))])
    assert [r["frame"] for r in rows] == list(range(11, 40))
    mid = next(r for r in rows if r["frame"] == 25)
    assert (mid["x1"], mid["y1"], mid["x2"], mid["y2"]) == (55.0, 40.0, 95.0, 90.0)
    f11 = rows[0]
    assert f11["x1"] == pytest.approx(10 + 90 / 30) and f11["y2"] == pytest.approx(80 + 20 / 30)
    assert all(r["source"] == "interpolated" and r["track_id"] == 1 and r["class_id"] == 1
               for r in rows)


def test_three_keyframes_and_track_ends_at_its_last_keyframe():
    rows = interpolate_track([_key(0, (0, 0, 10, 10)), _key(4, (4, 0, 14, 10)),
                              _key(6, (4, 2, 14, 12))])
    got = {r["frame"]: (r["x1"], r["y1"]) for r in rows}
    assert got == {1: (1, 0), 2: (2, 0), 3: (3, 0), 5: (4, 1)}
    assert interpolate_track([_key(3, (0, 0, 1, 1))]) == []
    assert interpolate_track([_key(3, (0, 0, 1, 1)), _key(4, (0, 0, 2, 2))]) == []


def test_outside_marker_cuts_the_span_short():
    keys = [_key(10, (10, 10, 20, 20)), _key(40, (40, 40, 50, 50))]
    rows = interpolate_track(keys, outside=[15, 30])
    assert [r["frame"] for r in rows] == [11, 12, 13, 14]
    assert [r["x1"] for r in rows] == [11, 12, 13, 14]        # same path as without the marker
    # A marker after the last keyframe extends the track up to the marker, box held.
    rows = interpolate_track(keys, outside=[43])
    assert [r["frame"] for r in rows] == list(range(11, 40)) + [41, 42]
    assert (rows[-1]["x1"], rows[-1]["y2"]) == (40, 50)
    # Markers before the first keyframe or on a keyframe change nothing.
    assert len(interpolate_track(keys, outside=[2, 10, 40])) == 29


def test_schema_v3_tables(video_project):
    tables = {r[0] for r in video_project.conn.execute("SELECT name FROM sqlite_master")}
    assert {"track_events", "video_sampling", "boxes_track"} <= tables
    assert schema.version(video_project.conn) == schema.SCHEMA_VERSION >= 3


def test_rebuild_in_the_store(video_project):
    p = video_project
    assert p.tracks.next_id(1) == 1
    a = p.boxes.add_one(1, 1, 10, 20, 50, 80, frame=10, track_id=1)
    p.boxes.add_one(1, 1, 100, 60, 140, 100, frame=40, track_id=1)
    p.boxes.add_one(1, 1, 0, 0, 5, 5, frame=12, track_id=2)           # another track, one keyframe
    assert rebuild_interpolation(p, 1, 1) == 29
    assert p.tracks.next_id(1) == 3
    boxes = {b.frame: b for b in p.tracks.boxes(1, 1)}
    assert boxes[25].rect == (55, 40, 95, 90) and boxes[25].source == "interpolated"
    assert boxes[10].id == a and boxes[10].source == "manual"
    assert p.frames.keyframes(1) == [10, 12, 40]
    assert p.frames.labelled(1) == list(range(10, 41))
    # Rebuilding again replaces, never duplicates; outside markers are respected.
    p.tracks.set_outside(1, 1, 20)
    assert rebuild_all(p, 1) == 9
    assert [b.frame for b in p.tracks.boxes(1, 1, "interpolated")] == list(range(11, 20))
    assert p.tracks.all_outside(1) == {1: [20]}
    p.tracks.set_outside(1, 1, 20, on=False)
    assert rebuild_interpolation(p, 1, 1) == 29
    p.tracks.set_outside(1, 7, 5)
    assert p.tracks.next_id(1) == 8             # markers of a track reserve its id too
