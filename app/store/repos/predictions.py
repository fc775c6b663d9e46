"""Cached model predictions: per run, media and frame.

Predicted boxes are rows of ``boxes`` with source 'predicted', the run's id and a
score, so the label views, exports, info and browser counts skip them as they
always have. ``prediction_frames`` says which frames a run has already seen.
"""

from __future__ import annotations

from typing import Iterable

from app.store.models import Box
from app.store.repos.base import BOX_COLS, Repository
from app.store.repos.boxes import BoxRepository


class PredictionRepository(Repository):
    def __init__(self, db, boxes: BoxRepository):
        super().__init__(db)
        self._boxes = boxes

    def store(self, run_id: int, media_id: int, frame: int,
              boxes: Iterable[tuple[int, float, float, float, float, float]]) -> None:
        """Replace what ``run_id`` predicted on this frame: (class_id, x1, y1, x2, y2, score)."""
        with self.db.transaction() as c:
            c.execute("DELETE FROM boxes WHERE run_id = ? AND media_id = ? AND frame = ? "
                      "AND source = 'predicted'", (run_id, media_id, frame))
            self._boxes.add(dict(media_id=media_id, frame=frame, class_id=k, x1=x1, y1=y1, x2=x2,
                                 y2=y2, score=float(s), source="predicted", run_id=run_id)
                            for k, x1, y1, x2, y2, s in boxes)
            c.execute("INSERT OR IGNORE INTO prediction_frames (run_id, media_id, frame) "
                      "VALUES (?, ?, ?)", (run_id, media_id, frame))

    def has(self, run_id: int, media_id: int, frame: int = 0) -> bool:
        """Whether the run has already seen this frame (it may have found nothing)."""
        return self.db.execute(
            "SELECT 1 FROM prediction_frames WHERE run_id = ? AND media_id = ? AND frame = ?",
            (run_id, media_id, frame)).fetchone() is not None

    def boxes(self, run_id: int, media_id: int, frame: int | None = 0,
              min_score: float | None = None) -> list[Box]:
        """Predicted boxes of a frame (``frame=None``: every frame), best score first;
        only those scoring at least ``min_score`` when it is given."""
        where, args = "run_id = ? AND media_id = ? AND source = 'predicted'", [run_id, media_id]
        if frame is not None:
            where += " AND frame = ?"
            args.append(frame)
        if min_score is not None:
            where += " AND score >= ?"
            args.append(min_score)
        return [Box(*r) for r in self.db.execute(
            f"SELECT {BOX_COLS} FROM boxes WHERE {where} ORDER BY frame, score DESC, id", args)]

    def frames(self, run_id: int, media_id: int | None = None) -> list[tuple[int, int]]:
        """(media id, frame) pairs the run has predicted, in order."""
        if media_id is None:
            rows = self.db.execute("SELECT media_id, frame FROM prediction_frames "
                                   "WHERE run_id = ? ORDER BY media_id, frame", (run_id,))
        else:
            rows = self.db.execute("SELECT media_id, frame FROM prediction_frames WHERE run_id = ? "
                                   "AND media_id = ? ORDER BY frame", (run_id, media_id))
        return [(r[0], r[1]) for r in rows]

    def clear(self, run_id: int) -> None:
        with self.db.transaction() as c:
            c.execute("DELETE FROM boxes WHERE run_id = ? AND source = 'predicted'", (run_id,))
            c.execute("DELETE FROM prediction_frames WHERE run_id = ?", (run_id,))
