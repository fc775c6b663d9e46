"""Undoable edits of video labels: keyframes, tracks, "outside" markers.

Every intent is one step of the project's undo journal (``Document.edit``): the
edit and the re-interpolation of the tracks it touches run in one transaction,
and the journal records the rows that changed, so undo restores exactly,
interpolated boxes and their ids included, without a snapshot of the track.

``VideoEdits(doc)`` is what the window wires the canvas and timeline intents to.
"""

from __future__ import annotations

from typing import Callable

from app.store.tracks import rebuild_interpolation


class VideoEdits:
    """Intent methods for labelling a video; each pushes one command on the undo stack."""

    def __init__(self, doc):
        self.doc = doc

    @property
    def project(self):
        return self.doc.project

    def _edit(self, media_id: int, tracks: set, text: str, edit: Callable[[object], None]) -> None:
        """Run ``edit(project)`` on a video, then re-interpolate ``tracks``: one step."""
        tracks = sorted({t for t in tracks if t is not None})

        def fn(p):
            edit(p)
            for t in tracks:
                rebuild_interpolation(p, media_id, t)

        self.doc.edit(text, fn, {media_id})

    # -- intents -------------------------------------------------------------------
    def add_box(self, media_id: int, frame: int, class_id: int, rect,
                track_id: int | None = None) -> tuple[int, int]:
        """Draw a keyframe box; a new track unless ``track_id`` is given.

        A keyframe of the same track already on ``frame`` is replaced, and an outside
        marker there is lifted (the object is visible). Returns (box id, track id).
        """
        if track_id is None:
            track_id = self.project.tracks.next_id(media_id)
        x1, y1, x2, y2 = rect
        created: list[int] = []

        def edit(p):
            p.tracks.clear_frames(media_id, track_id, [frame])
            p.tracks.set_outside(media_id, track_id, frame, on=False)
            p.status.clear_empty([(media_id, frame)])
            created[:] = p.boxes.add([dict(media_id=media_id, frame=frame, class_id=class_id,
                                           x1=x1, y1=y1, x2=x2, y2=y2, track_id=track_id,
                                           author=self.doc.author)])

        self._edit(media_id, {track_id}, f"Add box (track {track_id})", edit)
        return (created[0] if created else None), track_id   # None: queued or refused

    def edit_boxes(self, media_id: int, frame: int, edits) -> None:
        """Move/resize boxes shown on ``frame``: ``edits`` is a list of (id, x1, y1, x2, y2)
        as the canvas reports a gesture, or a dict id → fields (x1…y2, class_id).

        An interpolated box that is edited becomes a manual keyframe; its track's
        neighbouring frames are re-interpolated.
        """
        changes: dict[int, dict] = {}
        if isinstance(edits, dict):
            changes = {i: dict(f) for i, f in edits.items()}
        else:
            for box_id, x1, y1, x2, y2 in edits:
                x1, x2 = sorted((x1, x2))
                y1, y2 = sorted((y1, y2))
                changes[box_id] = dict(x1=x1, y1=y1, x2=x2, y2=y2)
        if not changes:
            return
        boxes = [self.project.boxes.get(i) for i in changes]
        for b in boxes:
            if b.media_id != media_id:
                raise ValueError(f"box {b.id} is not on media {media_id}")

        def edit(p):
            for b in boxes:
                fields = dict(changes[b.id])
                if b.source == "interpolated":
                    fields["source"] = "manual"
                p.boxes.update(b.id, **fields)

        n = len(changes)
        text = f"Edit box on frame {frame}" if n == 1 else f"Edit boxes ×{n} on frame {frame}"
        tracks = {b.track_id for b in boxes} | {c.get("track_id") for c in changes.values()}
        self._edit(media_id, tracks, text, edit)

    def _affected(self, box_ids: list[int]):
        """(boxes, their media, the tracks they belong to, the ids of boxes in no track)."""
        boxes = [self.project.boxes.get(i) for i in box_ids]
        tracks = {b.track_id for b in boxes if b.track_id is not None}
        loose = {b.id for b in boxes if b.track_id is None}
        return boxes, (boxes[0].media_id if boxes else None), tracks, loose

    def set_class(self, box_ids: list[int], class_id: int) -> None:
        """Change the class of boxes; for a box in a track, the whole track changes."""
        boxes, media_id, tracks, loose = self._affected(box_ids)
        if not boxes:
            return

        def edit(p):
            for t in tracks:
                p.tracks.set_class(media_id, t, class_id)
            for i in loose:
                p.boxes.update(i, class_id=class_id)

        self._edit(media_id, tracks, "Change class", edit)

    def delete_boxes(self, box_ids: list[int]) -> None:
        """Delete boxes. A keyframe goes and its track is re-interpolated; deleting an
        interpolated box marks its track outside from that frame (the only way the
        object stays gone when the track is re-interpolated)."""
        boxes, media_id, tracks, loose = self._affected(box_ids)
        if not boxes:
            return

        def edit(p):
            for b in boxes:
                if b.source == "interpolated" and b.track_id is not None:
                    p.tracks.set_outside(media_id, b.track_id, b.frame)
            p.boxes.delete([b.id for b in boxes])

        text = "Delete box" if len(boxes) == 1 else f"Delete boxes ×{len(boxes)}"
        self._edit(media_id, tracks, text, edit)

    def delete_track(self, media_id: int, track_id: int) -> None:
        """Remove a whole track: every box and marker of it."""
        def edit(p):
            p.tracks.delete(media_id, track_id)

        self._edit(media_id, {track_id}, f"Delete track {track_id}", edit)

    def mark_outside(self, media_id: int, track_id: int, frame: int) -> None:
        """The object leaves the view at ``frame``: no boxes until its next keyframe."""
        def edit(p):
            p.tracks.delete_keyframe(media_id, track_id, frame)
            p.tracks.set_outside(media_id, track_id, frame)

        self._edit(media_id, {track_id}, f"Track {track_id} outside from frame {frame}", edit)

    def clear_outside(self, media_id: int, track_id: int, frame: int) -> None:
        self._edit(media_id, {track_id}, f"Track {track_id} back in view",
                   lambda p: p.tracks.set_outside(media_id, track_id, frame, on=False))

    def add_tracked(self, box_id: int, boxes: list[tuple[int, tuple]]) -> int:
        """Tracked ``boxes`` [(frame, rect)] after ``box_id`` become keyframes of its
        track, in one step: other boxes of the track on those frames go, and the start
        box becomes a keyframe too (a box in no track gets a new track). Returns the track."""
        start = self.project.boxes.get(box_id)
        media_id = start.media_id
        track = start.track_id if start.track_id is not None else self.project.tracks.next_id(media_id)

        def edit(p):
            p.boxes.update(box_id, track_id=track, source="manual")
            p.tracks.clear_frames(media_id, track, [f for f, _ in boxes])
            for f, _ in boxes:
                p.tracks.set_outside(media_id, track, f, on=False)
            p.status.clear_empty([(media_id, f) for f, _ in boxes])
            p.boxes.add([dict(media_id=media_id, frame=f, class_id=start.class_id, x1=x1, y1=y1,
                              x2=x2, y2=y2, track_id=track, author=self.doc.author)
                         for f, (x1, y1, x2, y2) in boxes])

        self._edit(media_id, {track}, f"Track forward (track {track}, {len(boxes)} frames)", edit)
        return track

    def interpolate(self, media_id: int, track_ids: list[int] | None = None) -> None:
        """Re-interpolate tracks (all of the video's by default), e.g. after an import."""
        tracks = set(track_ids) if track_ids is not None else set(self.project.tracks.ids(media_id))
        self._edit(media_id, tracks, "Interpolate tracks", lambda p: None)

    def set_sampling(self, media_id: int, spec: dict | None) -> None:
        """Store which frames of the video go into the dataset (not undoable: a setting)."""
        from app.store.sampling import normalize

        self.project.frames.set_sampling(media_id, None if spec is None else normalize(spec))

    # -- continuing tracks by drawing ------------------------------------------------
    def track_for_drawing(self, media_id: int, frame: int, class_id: int,
                          selected_tracks: list[int | None], new_track: bool = False,
                          only_selected: bool = False) -> int | None:
        """The track a box drawn on ``frame`` becomes a keyframe of, or None: a new track.

        A selected track continues unless it already has a keyframe here (then the
        drawing is another object). With nothing selected, the track of ``class_id``
        drawn last continues while it is "active": no box of it on this frame and not
        marked outside here (``only_selected``: nothing selected means a new track).
        ``new_track``: the user asked for a new one."""
        if new_track:
            return None
        labels = self.project.boxes.labels(media_id, frame)
        keyed = {b.track_id for b in labels if b.source == "manual"}
        for t in selected_tracks:
            if t is not None and t not in keyed:
                return t
        if selected_tracks or only_selected:
            return None
        t = self.project.tracks.latest(media_id, class_id)
        if t is None or t in {b.track_id for b in labels} or self.outside_at(media_id, t, frame):
            return None
        return t

    def outside_at(self, media_id: int, track_id: int, frame: int) -> bool:
        """Whether the track was marked outside at or before ``frame`` and has no
        keyframe since."""
        marks = [f for f in self.project.tracks.outside_frames(media_id, track_id) if f <= frame]
        keys = [b.frame for b in self.project.tracks.keyframes(media_id, track_id) if b.frame <= frame]
        return bool(marks) and max(marks) > max(keys, default=-1)

    def ghosts(self, media_id: int, frame: int) -> list:
        """The last box of each track that ended before ``frame`` and was not marked
        outside since: shown faintly, so the track can be extended (or marked outside)."""
        outside = self.project.tracks.all_outside(media_id)
        return [b for b in self.project.tracks.ends(media_id)
                if b.frame < frame and not any(b.frame < m <= frame for m in outside.get(b.track_id, ()))]

    # -- reading for the views -----------------------------------------------------
    def markers(self, media_id: int) -> tuple[list[int], list[int]]:
        """(frames with boxes, keyframes) for the timeline."""
        return self.project.frames.labelled(media_id), self.project.frames.keyframes(media_id)
