"""Boxes: labels (manual and interpolated) and, with source 'predicted', model output."""

from __future__ import annotations

from typing import Iterable

from app.store.models import SOURCES, Box
from app.store.repos.base import BOX_COLS, Repository, now

_EDITABLE = {"class_id", "x1", "y1", "x2", "y2", "track_id", "source", "score", "frame"}


class BoxRepository(Repository):
    def of(self, media_id: int, frame: int | None = None) -> list[Box]:
        """Every box of a media item (or of one frame), predictions included."""
        if frame is None:
            rows = self.db.execute(f"SELECT {BOX_COLS} FROM boxes WHERE media_id = ? "
                                   "ORDER BY frame, id", (media_id,))
        else:
            rows = self.db.execute(f"SELECT {BOX_COLS} FROM boxes WHERE media_id = ? AND frame = ? "
                                   "ORDER BY id", (media_id, frame))
        return [Box(*r) for r in rows]

    def labels(self, media_id: int, frame: int = 0) -> list[Box]:
        """The labels of a frame (manual and interpolated), without predictions."""
        return [Box(*r) for r in self.db.execute(
            f"SELECT {BOX_COLS} FROM boxes WHERE media_id = ? AND frame = ? "
            "AND source != 'predicted' ORDER BY id", (media_id, frame))]

    def get(self, box_id: int) -> Box:
        row = self.db.execute(f"SELECT {BOX_COLS} FROM boxes WHERE id = ?", (box_id,)).fetchone()
        if row is None:
            raise KeyError(f"no box with id {box_id}")
        return Box(*row)

    def exists(self, box_id: int) -> bool:
        return self.db.execute("SELECT 1 FROM boxes WHERE id = ?", (box_id,)).fetchone() is not None

    def add_one(self, media_id: int, class_id: int, x1: float, y1: float, x2: float, y2: float,
                *, frame: int = 0, track_id: int | None = None, source: str = "manual",
                score: float | None = None, run_id: int | None = None, author: str | None = None,
                box_id: int | None = None) -> int:
        return self.add([dict(id=box_id, media_id=media_id, class_id=class_id, x1=x1, y1=y1,
                              x2=x2, y2=y2, frame=frame, track_id=track_id, source=source,
                              score=score, run_id=run_id, author=author)])[0]

    def add(self, boxes: Iterable[dict]) -> list[int]:
        """Insert many boxes in one transaction (keys as in ``add_one``; ``id`` optional)."""
        stamp = now()
        ids = []
        with self.db.transaction() as c:
            for b in boxes:
                source = b.get("source", "manual")
                if source not in SOURCES:
                    raise ValueError(f"unknown box source {source!r}")
                x1, x2 = sorted((float(b["x1"]), float(b["x2"])))
                y1, y2 = sorted((float(b["y1"]), float(b["y2"])))
                cur = c.execute(
                    f"INSERT INTO boxes ({BOX_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (b.get("id"), b["media_id"], b.get("frame", 0), b["class_id"], x1, y1, x2, y2,
                     b.get("track_id"), source, b.get("score"), b.get("run_id"), b.get("author"),
                     b.get("created_at") or stamp, stamp))
                ids.append(cur.lastrowid)
        return ids

    def update(self, box_id: int, **fields) -> None:
        unknown = set(fields) - _EDITABLE
        if unknown:
            raise ValueError(f"cannot edit box fields {sorted(unknown)}")
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.db.transaction() as c:
            c.execute(f"UPDATE boxes SET {sets}, updated_at = ? WHERE id = ?",
                      (*fields.values(), now(), box_id))

    def update_many(self, changes: dict[int, dict]) -> None:
        """``update`` for many boxes at once (id -> fields; the same fields for each)."""
        if not changes:
            return
        fields = list(next(iter(changes.values())))
        unknown = set(fields) - _EDITABLE
        if unknown:
            raise ValueError(f"cannot edit box fields {sorted(unknown)}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        stamp = now()
        with self.db.transaction() as c:
            c.executemany(f"UPDATE boxes SET {sets}, updated_at = ? WHERE id = ?",
                          [(*(f[k] for k in fields), stamp, i) for i, f in changes.items()])

    def delete(self, box_ids: Iterable[int]) -> None:
        with self.db.transaction() as c:
            c.executemany("DELETE FROM boxes WHERE id = ?", [(i,) for i in box_ids])

    def count(self, media_id: int) -> int:
        """Labelled boxes of a media item, all frames."""
        return self.db.execute("SELECT COUNT(*) FROM boxes WHERE media_id = ? "
                               "AND source != 'predicted'", (media_id,)).fetchone()[0]

    def ids_of_class(self, class_id: int, labels_only: bool = False) -> list[int]:
        sql = "SELECT id FROM boxes WHERE class_id = ?"
        if labels_only:
            sql += " AND source != 'predicted'"
        return [r[0] for r in self.db.execute(sql + " ORDER BY id", (class_id,))]

    def embeddable(self) -> list[tuple[int, int, int, tuple, str]]:
        """(box id, media id, frame, xyxy, updated_at) of every labelled box."""
        rows = self.db.execute("SELECT id, media_id, frame, x1, y1, x2, y2, updated_at "
                               "FROM boxes WHERE source != 'predicted' ORDER BY media_id, frame")
        return [(r[0], r[1], r[2], (r[3], r[4], r[5], r[6]), r[7]) for r in rows]
