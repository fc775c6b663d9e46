"""Keyframe interpolation of box tracks (pure functions plus one store helper).

A track is the boxes of one object across the frames of a video (same ``track_id``).
Its manual boxes are keyframes; every frame strictly between two consecutive
keyframes gets a box linearly interpolated in x1, y1, x2, y2 (``source =
'interpolated'``, class of the earlier keyframe).

An "outside" marker at frame F says the object is absent from F until the track's
next keyframe after F: a marker between keyframes A and B removes the boxes F .. B-1
and leaves A+1 .. F-1 interpolated as before (the object moves the same way until
it leaves). Without a marker a track ends at its last keyframe; a marker after the
last keyframe K extends the track, holding K's box on K+1 .. F-1.
"""

from __future__ import annotations

import bisect
from typing import Iterable

from app.store.models import Box


def interpolate_track(keyframes: Iterable[Box], outside: Iterable[int] = ()) -> list[dict]:
    """Rows (dicts for ``Project.add_boxes``) for the frames between ``keyframes``.

    ``keyframes`` are one track's manual boxes (any order; if two share a frame the
    later id wins); ``outside`` are the frames of its "outside" markers.
    """
    by_frame: dict[int, Box] = {}
    for box in sorted(keyframes, key=lambda b: (b.frame, b.id)):
        by_frame[box.frame] = box
    keys = [by_frame[f] for f in sorted(by_frame)]
    marks = sorted(set(outside) - set(by_frame))
    rows: list[dict] = []
    for n, a in enumerate(keys):
        b = keys[n + 1] if n + 1 < len(keys) else None
        end = b.frame if b is not None else None
        # The first marker after a (and before b) cuts the span short.
        i = bisect.bisect_right(marks, a.frame)
        cut = marks[i] if i < len(marks) and (end is None or marks[i] < end) else None
        if b is None:
            if cut is not None:
                rows.extend(_row(a, f, a.rect) for f in range(a.frame + 1, cut))
        else:
            span = b.frame - a.frame
            for f in range(a.frame + 1, b.frame if cut is None else cut):
                t = (f - a.frame) / span
                rect = tuple(p + t * (q - p) for p, q in zip(a.rect, b.rect))
                rows.append(_row(a, f, rect))
    return rows


def _row(key: Box, frame: int, rect) -> dict:
    x1, y1, x2, y2 = rect
    return dict(media_id=key.media_id, frame=frame, class_id=key.class_id, x1=x1, y1=y1,
                x2=x2, y2=y2, track_id=key.track_id, source="interpolated")


def rebuild_interpolation(project, media_id: int, track_id: int) -> int:
    """Bring a track's interpolated boxes up to date, in one transaction.

    Only what differs is written: a box on a frame that keeps one is updated in
    place (same id) when its rectangle or class moved, extra ones are deleted and
    missing ones added. So an edit near one keyframe writes (and the undo journal
    records) the frames it really changed, not the whole track.
    Returns how many interpolated boxes the track has now.
    """
    with project.transaction():
        rows = interpolate_track(project.tracks.keyframes(media_id, track_id),
                                 project.tracks.outside_frames(media_id, track_id))
        have: dict[int, list[Box]] = {}
        for box in project.tracks.boxes(media_id, track_id, "interpolated"):
            have.setdefault(box.frame, []).append(box)
        missing, stale, moved, recolored = [], [], {}, {}
        for row in rows:
            boxes = have.pop(row["frame"], [])
            if not boxes:
                missing.append(row)
                continue
            box = boxes[0]
            stale += boxes[1:]
            if box.class_id != row["class_id"]:
                recolored[box.id] = {k: row[k] for k in ("x1", "y1", "x2", "y2", "class_id")}
            elif box.rect != (row["x1"], row["y1"], row["x2"], row["y2"]):
                moved[box.id] = {k: row[k] for k in ("x1", "y1", "x2", "y2")}  # no class index touched
        stale += [b for boxes in have.values() for b in boxes]
        project.boxes.update_many(moved)
        project.boxes.update_many(recolored)
        project.boxes.delete([b.id for b in stale])
        project.boxes.add(missing)
    return len(rows)


def rebuild_all(project, media_id: int) -> int:
    """Re-interpolate every track of a video (after an import, for instance)."""
    with project.transaction():
        return sum(rebuild_interpolation(project, media_id, t) for t in project.tracks.ids(media_id))
