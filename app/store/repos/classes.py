"""Box classes: names, colours, order and hot keys."""

from __future__ import annotations

from app.store.models import LabelClass
from app.store.repos.base import Repository

# Distinct, readable on light and dark images (Tableau 10 + extras).
PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#17becf", "#bcbd22",
]
_COLS = "id, name, color, position, hotkey"


class ClassRepository(Repository):
    def all(self) -> list[LabelClass]:
        return [LabelClass(*r) for r in self.db.execute(
            f"SELECT {_COLS} FROM classes ORDER BY position, id")]

    def get(self, class_id: int) -> LabelClass:
        row = self.db.execute(f"SELECT {_COLS} FROM classes WHERE id = ?", (class_id,)).fetchone()
        if row is None:
            raise KeyError(f"no class with id {class_id}")
        return LabelClass(*row)

    def by_name(self, name: str) -> LabelClass | None:
        row = self.db.execute(f"SELECT {_COLS} FROM classes WHERE name = ?", (name,)).fetchone()
        return LabelClass(*row) if row else None

    def add(self, name: str, color: str | None = None, hotkey: str | None = None,
            position: int | None = None, class_id: int | None = None) -> int:
        name = name.strip()
        if not name:
            raise ValueError("a class needs a name")
        with self.db.transaction() as c:
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
                (class_id, name, color or PALETTE[count % len(PALETTE)], position, hotkey))
            return cur.lastrowid

    def ensure(self, name: str) -> int:
        existing = self.by_name(name)
        return existing.id if existing else self.add(name)

    def update(self, class_id: int, *, name: str | None = None, color: str | None = None,
               hotkey: str | None = None) -> None:
        with self.db.transaction() as c:
            if name is not None:
                if not name.strip():
                    raise ValueError("a class needs a name")
                c.execute("UPDATE classes SET name = ? WHERE id = ?", (name.strip(), class_id))
            if color is not None:
                c.execute("UPDATE classes SET color = ? WHERE id = ?", (color, class_id))
            if hotkey is not None:
                c.execute("UPDATE classes SET hotkey = NULLIF(?, '') WHERE id = ?", (hotkey, class_id))

    def reorder(self, ids: list[int]) -> None:
        with self.db.transaction() as c:
            for position, class_id in enumerate(ids):
                c.execute("UPDATE classes SET position = ? WHERE id = ?", (position, class_id))

    def delete(self, class_id: int) -> int:
        """Delete a class and its boxes; returns how many boxes went with it."""
        with self.db.transaction() as c:
            n = c.execute("SELECT COUNT(*) FROM boxes WHERE class_id = ?", (class_id,)).fetchone()[0]
            c.execute("DELETE FROM classes WHERE id = ?", (class_id,))
            return n

    def box_counts(self) -> dict[int, int]:
        """Labelled boxes per class id (predictions left out)."""
        return dict(self.db.execute(
            "SELECT class_id, COUNT(*) FROM boxes WHERE source != 'predicted' GROUP BY class_id"
        ).fetchall())

    def interpolated_counts(self) -> dict[int, int]:
        """Interpolated boxes per class id (video frames between keyframes)."""
        return dict(self.db.execute(
            "SELECT class_id, COUNT(*) FROM boxes WHERE source = 'interpolated' GROUP BY class_id"
        ).fetchall())

    def box_counts_by_name(self) -> dict[str, int]:
        """Labelled boxes per class name, every class listed, in class order."""
        return {name: n for name, n in self.db.execute(
            "SELECT classes.name, COUNT(boxes.id) FROM classes LEFT JOIN boxes "
            "ON boxes.class_id = classes.id AND boxes.source != 'predicted' "
            "GROUP BY classes.id ORDER BY classes.position")}
