"""Image-level tags (concepts) and which media carry them."""

from __future__ import annotations

from app.store.models import Tag
from app.store.repos.base import Repository


class TagRepository(Repository):
    def all(self) -> list[Tag]:
        return [Tag(*r) for r in self.db.execute(
            "SELECT id, name, position, hotkey FROM tags ORDER BY position, id")]

    def add(self, name: str, hotkey: str | None = None, tag_id: int | None = None) -> int:
        name = name.strip()
        if not name:
            raise ValueError("a tag needs a name")
        with self.db.transaction() as c:
            position = c.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM tags").fetchone()[0]
            cur = c.execute("INSERT INTO tags (id, name, position, hotkey) VALUES (?, ?, ?, ?)",
                            (tag_id, name, position, hotkey))
            return cur.lastrowid

    def ensure(self, name: str) -> int:
        row = self.db.execute("SELECT id FROM tags WHERE name = ?", (name.strip(),)).fetchone()
        return row[0] if row else self.add(name)

    def rename(self, tag_id: int, name: str) -> None:
        if not name.strip():
            raise ValueError("a tag needs a name")
        with self.db.transaction() as c:
            c.execute("UPDATE tags SET name = ? WHERE id = ?", (name.strip(), tag_id))

    def delete(self, tag_id: int) -> list[int]:
        """Delete a tag; returns the media that carried it (for undo)."""
        with self.db.transaction() as c:
            media = [r[0] for r in c.execute("SELECT media_id FROM media_tags WHERE tag_id = ?",
                                             (tag_id,))]
            c.execute("DELETE FROM tags WHERE id = ?", (tag_id,))
            return media

    def media_of(self, tag_id: int) -> list[int]:
        """Media carrying a tag, by id."""
        return [r[0] for r in self.db.execute(
            "SELECT media_id FROM media_tags WHERE tag_id = ? ORDER BY media_id", (tag_id,))]

    def of(self, media_id: int) -> set[int]:
        """Tag ids of one media item."""
        return {r[0] for r in self.db.execute("SELECT tag_id FROM media_tags WHERE media_id = ?",
                                              (media_id,))}

    def pairs(self) -> list[tuple[int, int]]:
        """Every (media id, tag id), ordered."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT media_id, tag_id FROM media_tags ORDER BY media_id, tag_id")]

    def set(self, media_id: int, tag_id: int, on: bool) -> None:
        with self.db.transaction() as c:
            if on:
                c.execute("INSERT OR IGNORE INTO media_tags (media_id, tag_id) VALUES (?, ?)",
                          (media_id, tag_id))
            else:
                c.execute("DELETE FROM media_tags WHERE media_id = ? AND tag_id = ?",
                          (media_id, tag_id))

    def counts(self) -> dict[str, int]:
        """Media per tag name, every tag listed, in tag order."""
        return {name: n for name, n in self.db.execute(
            "SELECT tags.name, COUNT(media_tags.media_id) FROM tags "
            "LEFT JOIN media_tags ON media_tags.tag_id = tags.id "
            "GROUP BY tags.id ORDER BY tags.position")}
