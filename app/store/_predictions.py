"""Cached model predictions: per run, media and frame.

Predicted boxes are rows of ``boxes`` with source 'predicted', the run's id and a
score, so the label views, exports, info and browser counts skip them as they
always have. ``prediction_frames`` says which frames a run has already seen.
"""

from __future__ import annotations

from typing import Iterable

from app.store.models import Box

_COLS = ("id, media_id, frame, class_id, x1, y1, x2, y2, track_id, source, score, run_id, "
         "author, created_at, updated_at")


class PredictionsMixin:
    def store_predictions(self, run_id: int, media_id: int, frame: int,
                          boxes: Iterable[tuple[int, float, float, float, float, float]]) -> None:
        """Replace what ``run_id`` predicted on this frame: (class_id, x1, y1, x2, y2, score)."""
        with self.transaction() as c:
            c.execute("DELETE FROM boxes WHERE run_id = ? AND media_id = ? AND frame = ? "
                      "AND source = 'predicted'", (run_id, media_id, frame))
            self.add_boxes(dict(media_id=media_id, frame=frame, class_id=k, x1=x1, y1=y1, x2=x2,
                                y2=y2, score=float(s), source="predicted", run_id=run_id)
                           for k, x1, y1, x2, y2, s in boxes)
            c.execute("INSERT OR IGNORE INTO prediction_frames (run_id, media_id, frame) "
                      "VALUES (?, ?, ?)", (run_id, media_id, frame))

    def is_predicted(self, run_id: int, media_id: int, frame: int = 0) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM prediction_frames WHERE run_id = ? AND media_id = ? AND frame = ?",
            (run_id, media_id, frame)).fetchone() is not None

    def predictions(self, run_id: int, media_id: int, frame: int | None = 0) -> list[Box]:
        """Predicted boxes of a frame (``frame=None``: every frame), best score first."""
        where, args = "run_id = ? AND media_id = ? AND source = 'predicted'", [run_id, media_id]
        if frame is not None:
            where += " AND frame = ?"
            args.append(frame)
        rows = self.conn.execute(f"SELECT {_COLS} FROM boxes WHERE {where} "
                                 "ORDER BY frame, score DESC, id", args)
        return [Box(*r) for r in rows]

    def predicted_frames(self, run_id: int, media_id: int | None = None) -> list[tuple[int, int]]:
        """(media id, frame) pairs the run has predicted, in order."""
        if media_id is None:
            rows = self.conn.execute("SELECT media_id, frame FROM prediction_frames "
                                     "WHERE run_id = ? ORDER BY media_id, frame", (run_id,))
        else:
            rows = self.conn.execute("SELECT media_id, frame FROM prediction_frames WHERE run_id = ? "
                                     "AND media_id = ? ORDER BY frame", (run_id, media_id))
        return [(r[0], r[1]) for r in rows]

    def label_boxes(self, media_id: int, frame: int = 0) -> list[Box]:
        """The labels of a frame (manual and interpolated), without predictions."""
        return [b for b in self.boxes(media_id, frame) if b.source != "predicted"]

    def clear_predictions(self, run_id: int) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM boxes WHERE run_id = ? AND source = 'predicted'", (run_id,))
            c.execute("DELETE FROM prediction_frames WHERE run_id = ?", (run_id,))
