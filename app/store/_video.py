"""Store methods for video labelling: tracks, "outside" markers, per-video sampling."""

from __future__ import annotations

import json

from app.store.models import Box

_BOX_COLS = (
    "id, media_id, frame, class_id, x1, y1, x2, y2, track_id, source, score, run_id, "
    "author, created_at, updated_at"
)


class VideoMixin:
    # -- tracks --------------------------------------------------------------------
    def next_track_id(self, media_id: int) -> int:
        """A track id not used by any box or marker of this video (ids start at 1)."""
        row = self.conn.execute(
            "SELECT MAX(t) FROM (SELECT MAX(track_id) AS t FROM boxes WHERE media_id = ? "
            "UNION ALL SELECT MAX(track_id) FROM track_events WHERE media_id = ?)",
            (media_id, media_id),
        ).fetchone()
        return (row[0] or 0) + 1

    def track_boxes(self, media_id: int, track_id: int, source: str | None = None) -> list[Box]:
        sql = f"SELECT {_BOX_COLS} FROM boxes WHERE media_id = ? AND track_id = ?"
        args: tuple = (media_id, track_id)
        if source:
            sql += " AND source = ?"
            args += (source,)
        return [Box(*r) for r in self.conn.execute(sql + " ORDER BY frame, id", args)]

    def track_keyframes(self, media_id: int, track_id: int) -> list[Box]:
        """The manual boxes of a track: the keyframes interpolation runs between."""
        return self.track_boxes(media_id, track_id, "manual")

    def track_ids(self, media_id: int) -> list[int]:
        rows = self.conn.execute(
            "SELECT DISTINCT track_id FROM boxes WHERE media_id = ? AND track_id IS NOT NULL "
            "UNION SELECT DISTINCT track_id FROM track_events WHERE media_id = ? ORDER BY 1",
            (media_id, media_id))
        return [r[0] for r in rows]

    # -- outside markers -----------------------------------------------------------
    def outside_frames(self, media_id: int, track_id: int) -> list[int]:
        rows = self.conn.execute(
            "SELECT frame FROM track_events WHERE media_id = ? AND track_id = ? AND kind = 'outside' "
            "ORDER BY frame", (media_id, track_id))
        return [r[0] for r in rows]

    def all_outside(self, media_id: int) -> dict[int, list[int]]:
        """track id → frames from which the track is outside (absent)."""
        out: dict[int, list[int]] = {}
        for track_id, frame in self.conn.execute(
            "SELECT track_id, frame FROM track_events WHERE media_id = ? AND kind = 'outside' "
            "ORDER BY track_id, frame", (media_id,)):
            out.setdefault(track_id, []).append(frame)
        return out

    def set_outside(self, media_id: int, track_id: int, frame: int, on: bool = True) -> None:
        with self.transaction() as c:
            if on:
                c.execute("INSERT OR IGNORE INTO track_events (media_id, track_id, frame, kind) "
                          "VALUES (?, ?, ?, 'outside')", (media_id, track_id, frame))
            else:
                c.execute("DELETE FROM track_events WHERE media_id = ? AND track_id = ? AND frame = ? "
                          "AND kind = 'outside'", (media_id, track_id, frame))

    # -- timeline markers ----------------------------------------------------------
    def box_frames(self, media_id: int) -> list[int]:
        """Frames that have labels (manual or interpolated), sorted."""
        rows = self.conn.execute(
            "SELECT DISTINCT frame FROM boxes WHERE media_id = ? AND source != 'predicted' "
            "ORDER BY frame", (media_id,))
        return [r[0] for r in rows]

    def keyframe_frames(self, media_id: int) -> list[int]:
        """Frames with a manual box, sorted: the keyframes the timeline marks."""
        rows = self.conn.execute(
            "SELECT DISTINCT frame FROM boxes WHERE media_id = ? AND source = 'manual' ORDER BY frame",
            (media_id,))
        return [r[0] for r in rows]

    # -- frame sampling ------------------------------------------------------------
    def video_sampling(self, media_id: int) -> dict | None:
        row = self.conn.execute("SELECT spec FROM video_sampling WHERE media_id = ?",
                                (media_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def all_video_sampling(self) -> dict[int, dict]:
        return {m: json.loads(s) for m, s in self.conn.execute("SELECT media_id, spec FROM video_sampling")}

    def set_video_sampling(self, media_id: int, spec: dict | None) -> None:
        """Store a sampling spec (see ``app.store.sampling``); None goes back to the default."""
        with self.transaction() as c:
            if spec is None:
                c.execute("DELETE FROM video_sampling WHERE media_id = ?", (media_id,))
            else:
                c.execute("INSERT INTO video_sampling (media_id, spec) VALUES (?, ?) "
                          "ON CONFLICT (media_id) DO UPDATE SET spec = excluded.spec",
                          (media_id, json.dumps(spec, sort_keys=True)))
