"""Classes, boxes and image-level tags of a project."""

from __future__ import annotations

from typing import Iterable

from app.store.models import SOURCES, Box, LabelClass, Tag

# Distinct, readable on light and dark images (Tableau 10 + extras).
PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#17becf", "#bcbd22",
]
_BOX_COLS = (
    "id, media_id, frame, class_id, x1, y1, x2, y2, track_id, source, score, run_id, "
    "author, created_at, updated_at"
)
_EDITABLE = {"class_id", "x1", "y1", "x2", "y2", "track_id", "source", "score", "frame"}


class LabelsMixin:
    # -- classes -------------------------------------------------------------------
    def classes(self) -> list[LabelClass]:
        rows = self.conn.execute(
            "SELECT id, name, color, position, hotkey FROM classes ORDER BY position, id"
        )
        return [LabelClass(*r) for r in rows]

    def class_by_name(self, name: str) -> LabelClass | None:
        row = self.conn.execute(
            "SELECT id, name, color, position, hotkey FROM classes WHERE name = ?", (name,)
        ).fetchone()
        return LabelClass(*row) if row else None

    def add_class(self, name: str, color: str | None = None, hotkey: str | None = None,
                  position: int | None = None, class_id: int | None = None) -> int:
        name = name.strip()
        if not name:
            raise ValueError("a class needs a name")
        with self.transaction() as c:
            count = c.execute("SELECT COUNT(*) FROM classes").fetchone()[0]
            if position is None:
                position = c.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM classes").fetchone()[0]
            else:  # make room: used by undo of a delete
                c.execute("UPDATE classes SET position = position + 1 WHERE position >= ?", (position,))
            if hotkey is None and count < 9:
                used = {r[0] for r in c.execute("SELECT hotkey FROM classes WHERE hotkey IS NOT NULL")}
                hotkey = next((str(k) for k in range(1, 10) if str(k) not in used), None)
            cur = c.execute(
                "INSERT INTO classes (id, name, color, position, hotkey) VALUES (?, ?, ?, ?, ?)",
                (class_id, name, color or PALETTE[count % len(PALETTE)], position, hotkey),
            )
            return cur.lastrowid

    def ensure_class(self, name: str) -> int:
        existing = self.class_by_name(name)
        return existing.id if existing else self.add_class(name)

    def update_class(self, class_id: int, *, name: str | None = None, color: str | None = None,
                     hotkey: str | None = None) -> None:
        with self.transaction() as c:
            if name is not None:
                if not name.strip():
                    raise ValueError("a class needs a name")
                c.execute("UPDATE classes SET name = ? WHERE id = ?", (name.strip(), class_id))
            if color is not None:
                c.execute("UPDATE classes SET color = ? WHERE id = ?", (color, class_id))
            if hotkey is not None:
                c.execute("UPDATE classes SET hotkey = NULLIF(?, '') WHERE id = ?", (hotkey, class_id))

    def reorder_classes(self, ids: list[int]) -> None:
        with self.transaction() as c:
            for position, class_id in enumerate(ids):
                c.execute("UPDATE classes SET position = ? WHERE id = ?", (position, class_id))

    def delete_class(self, class_id: int) -> int:
        """Delete a class and its boxes; returns how many boxes went with it."""
        with self.transaction() as c:
            n = c.execute("SELECT COUNT(*) FROM boxes WHERE class_id = ?", (class_id,)).fetchone()[0]
            c.execute("DELETE FROM classes WHERE id = ?", (class_id,))
            return n

    def class_box_counts(self) -> dict[int, int]:
        rows = self.conn.execute(
            "SELECT class_id, COUNT(*) FROM boxes WHERE source != 'predicted' GROUP BY class_id"
        )
        return dict(rows.fetchall())

    # -- boxes ---------------------------------------------------------------------
    def boxes(self, media_id: int, frame: int | None = None) -> list[Box]:
        if frame is None:
            rows = self.conn.execute(
                f"SELECT {_BOX_COLS} FROM boxes WHERE media_id = ? ORDER BY frame, id", (media_id,)
            )
        else:
            rows = self.conn.execute(
                f"SELECT {_BOX_COLS} FROM boxes WHERE media_id = ? AND frame = ? ORDER BY id",
                (media_id, frame),
            )
        return [Box(*r) for r in rows]

    def box(self, box_id: int) -> Box:
        row = self.conn.execute(f"SELECT {_BOX_COLS} FROM boxes WHERE id = ?", (box_id,)).fetchone()
        if row is None:
            raise KeyError(f"no box with id {box_id}")
        return Box(*row)

    def add_box(self, media_id: int, class_id: int, x1: float, y1: float, x2: float, y2: float,
                *, frame: int = 0, track_id: int | None = None, source: str = "manual",
                score: float | None = None, run_id: int | None = None, author: str | None = None,
                box_id: int | None = None) -> int:
        return self.add_boxes([dict(
            id=box_id, media_id=media_id, class_id=class_id, x1=x1, y1=y1, x2=x2, y2=y2,
            frame=frame, track_id=track_id, source=source, score=score, run_id=run_id,
            author=author)])[0]

    def add_boxes(self, boxes: Iterable[dict]) -> list[int]:
        """Insert many boxes in one transaction (keys as in ``add_box``; ``id`` optional)."""
        from app.store.project import now

        stamp = now()
        ids = []
        with self.transaction() as c:
            for b in boxes:
                source = b.get("source", "manual")
                if source not in SOURCES:
                    raise ValueError(f"unknown box source {source!r}")
                x1, x2 = sorted((float(b["x1"]), float(b["x2"])))
                y1, y2 = sorted((float(b["y1"]), float(b["y2"])))
                cur = c.execute(
                    f"INSERT INTO boxes ({_BOX_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (b.get("id"), b["media_id"], b.get("frame", 0), b["class_id"], x1, y1, x2, y2,
                     b.get("track_id"), source, b.get("score"), b.get("run_id"), b.get("author"),
                     b.get("created_at") or stamp, stamp),
                )
                ids.append(cur.lastrowid)
        return ids

    def update_box(self, box_id: int, **fields) -> None:
        from app.store.project import now

        unknown = set(fields) - _EDITABLE
        if unknown:
            raise ValueError(f"cannot edit box fields {sorted(unknown)}")
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction() as c:
            c.execute(f"UPDATE boxes SET {sets}, updated_at = ? WHERE id = ?",
                      (*fields.values(), now(), box_id))

    def delete_boxes(self, box_ids: Iterable[int]) -> None:
        with self.transaction() as c:
            c.executemany("DELETE FROM boxes WHERE id = ?", [(i,) for i in box_ids])

    def box_count(self, media_id: int) -> int:
        return self.conn.execute(
            "SELECT COUNT(*) FROM boxes WHERE media_id = ? AND source != 'predicted'", (media_id,)
        ).fetchone()[0]

    # -- tags ----------------------------------------------------------------------
    def tags(self) -> list[Tag]:
        rows = self.conn.execute("SELECT id, name, position, hotkey FROM tags ORDER BY position, id")
        return [Tag(*r) for r in rows]

    def add_tag(self, name: str, hotkey: str | None = None, tag_id: int | None = None) -> int:
        name = name.strip()
        if not name:
            raise ValueError("a tag needs a name")
        with self.transaction() as c:
            position = c.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM tags").fetchone()[0]
            cur = c.execute("INSERT INTO tags (id, name, position, hotkey) VALUES (?, ?, ?, ?)",
                            (tag_id, name, position, hotkey))
            return cur.lastrowid

    def ensure_tag(self, name: str) -> int:
        row = self.conn.execute("SELECT id FROM tags WHERE name = ?", (name.strip(),)).fetchone()
        return row[0] if row else self.add_tag(name)

    def rename_tag(self, tag_id: int, name: str) -> None:
        if not name.strip():
            raise ValueError("a tag needs a name")
        with self.transaction() as c:
            c.execute("UPDATE tags SET name = ? WHERE id = ?", (name.strip(), tag_id))

    def delete_tag(self, tag_id: int) -> list[int]:
        """Delete a tag; returns the media that carried it (for undo)."""
        with self.transaction() as c:
            media = [r[0] for r in c.execute("SELECT media_id FROM media_tags WHERE tag_id = ?", (tag_id,))]
            c.execute("DELETE FROM tags WHERE id = ?", (tag_id,))
            return media

    def media_tags(self, media_id: int) -> set[int]:
        rows = self.conn.execute("SELECT tag_id FROM media_tags WHERE media_id = ?", (media_id,))
        return {r[0] for r in rows}

    def set_media_tag(self, media_id: int, tag_id: int, on: bool) -> None:
        with self.transaction() as c:
            if on:
                c.execute("INSERT OR IGNORE INTO media_tags (media_id, tag_id) VALUES (?, ?)",
                          (media_id, tag_id))
            else:
                c.execute("DELETE FROM media_tags WHERE media_id = ? AND tag_id = ?", (media_id, tag_id))
