"""Video labelling: tracks (boxes of one object across frames) and "outside" markers."""

from __future__ import annotations

from typing import Iterable

from app.store.models import Box
from app.store.repos.base import BOX_COLS, Repository


class TrackRepository(Repository):
    def next_id(self, media_id: int) -> int:
        """A track id not used by any box or marker of this video (ids start at 1)."""
        row = self.db.execute(
            "SELECT MAX(t) FROM (SELECT MAX(track_id) AS t FROM boxes WHERE media_id = ? "
            "UNION ALL SELECT MAX(track_id) FROM track_events WHERE media_id = ?)",
            (media_id, media_id)).fetchone()
        return (row[0] or 0) + 1

    def boxes(self, media_id: int, track_id: int, source: str | None = None) -> list[Box]:
        sql = f"SELECT {BOX_COLS} FROM boxes WHERE media_id = ? AND track_id = ?"
        args: tuple = (media_id, track_id)
        if source:
            sql += " AND source = ?"
            args += (source,)
        return [Box(*r) for r in self.db.execute(sql + " ORDER BY frame, id", args)]

    def keyframes(self, media_id: int, track_id: int) -> list[Box]:
        """The manual boxes of a track: the keyframes interpolation runs between."""
        return self.boxes(media_id, track_id, "manual")

    def ends(self, media_id: int) -> list[Box]:
        """Each track's last label box (its highest frame), by track id. Predictions
        carry no track, so the grouping reads the track index alone."""
        return [Box(*r) for r in self.db.execute(
            f"SELECT {', '.join('b.' + c for c in BOX_COLS.split(', '))} FROM boxes b JOIN "
            "(SELECT track_id, MAX(frame) AS last FROM boxes WHERE media_id = ? "
            "AND track_id IS NOT NULL GROUP BY track_id) e "
            "ON b.track_id = e.track_id AND b.frame = e.last "
            "WHERE b.media_id = ? AND b.source != 'predicted' GROUP BY b.track_id "
            "ORDER BY b.track_id", (media_id, media_id))]

    def latest(self, media_id: int, class_id: int) -> int | None:
        """The track of ``class_id`` whose keyframe was drawn last (highest box id)."""
        row = self.db.execute(
            "SELECT track_id FROM boxes WHERE media_id = ? AND class_id = ? AND source = 'manual' "
            "AND track_id IS NOT NULL ORDER BY id DESC LIMIT 1", (media_id, class_id)).fetchone()
        return row[0] if row else None

    def ids(self, media_id: int) -> list[int]:
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT track_id FROM boxes WHERE media_id = ? AND track_id IS NOT NULL "
            "UNION SELECT DISTINCT track_id FROM track_events WHERE media_id = ? ORDER BY 1",
            (media_id, media_id))]

    # -- edits (callers wrap them in one transaction with the re-interpolation) ----------
    def clear_frames(self, media_id: int, track_id: int, frames: Iterable[int]) -> None:
        """Remove the track's labels (keyframes and interpolated) on ``frames``."""
        with self.db.transaction() as c:
            c.executemany("DELETE FROM boxes WHERE media_id = ? AND track_id = ? AND frame = ? "
                          "AND source != 'predicted'", [(media_id, track_id, f) for f in frames])

    def delete_keyframe(self, media_id: int, track_id: int, frame: int) -> None:
        with self.db.transaction() as c:
            c.execute("DELETE FROM boxes WHERE media_id = ? AND track_id = ? AND frame = ? "
                      "AND source = 'manual'", (media_id, track_id, frame))

    def delete_interpolated(self, media_id: int, track_id: int) -> None:
        with self.db.transaction() as c:
            c.execute("DELETE FROM boxes WHERE media_id = ? AND track_id = ? "
                      "AND source = 'interpolated'", (media_id, track_id))

    def set_class(self, media_id: int, track_id: int, class_id: int) -> None:
        """A track changes class as a whole."""
        with self.db.transaction() as c:
            c.execute("UPDATE boxes SET class_id = ? WHERE media_id = ? AND track_id = ? "
                      "AND source != 'predicted'", (class_id, media_id, track_id))

    def delete(self, media_id: int, track_id: int) -> None:
        """Every box and marker of a track."""
        with self.db.transaction() as c:
            c.execute("DELETE FROM boxes WHERE media_id = ? AND track_id = ?", (media_id, track_id))
            c.execute("DELETE FROM track_events WHERE media_id = ? AND track_id = ?",
                      (media_id, track_id))

    # -- outside markers -----------------------------------------------------------
    def outside_frames(self, media_id: int, track_id: int) -> list[int]:
        return [r[0] for r in self.db.execute(
            "SELECT frame FROM track_events WHERE media_id = ? AND track_id = ? AND kind = 'outside' "
            "ORDER BY frame", (media_id, track_id))]

    def all_outside(self, media_id: int) -> dict[int, list[int]]:
        """track id → frames from which the track is outside (absent)."""
        out: dict[int, list[int]] = {}
        for track_id, frame in self.db.execute(
                "SELECT track_id, frame FROM track_events WHERE media_id = ? AND kind = 'outside' "
                "ORDER BY track_id, frame", (media_id,)):
            out.setdefault(track_id, []).append(frame)
        return out

    def set_outside(self, media_id: int, track_id: int, frame: int, on: bool = True) -> None:
        with self.db.transaction() as c:
            if on:
                c.execute("INSERT OR IGNORE INTO track_events (media_id, track_id, frame, kind) "
                          "VALUES (?, ?, ?, 'outside')", (media_id, track_id, frame))
            else:
                c.execute("DELETE FROM track_events WHERE media_id = ? AND track_id = ? AND frame = ? "
                          "AND kind = 'outside'", (media_id, track_id, frame))
