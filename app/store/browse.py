"""What the media browser lists: filtered id lists and paged row lookups.

The browser holds only the list of ids (100,000 ints is nothing); rows are read a
page at a time as they scroll into view.
"""

from __future__ import annotations

from dataclasses import dataclass

FILTERS = ("all", "unlabelled", "labelled", "class", "tag")
_LABELLED = "EXISTS (SELECT 1 FROM boxes b WHERE b.media_id = m.id AND b.source != 'predicted')"
_TAGGED = "EXISTS (SELECT 1 FROM media_tags t WHERE t.media_id = m.id)"


@dataclass(frozen=True)
class BrowseRow:
    id: int
    name: str
    kind: str
    path: str          # absolute, for thumbnails
    box_count: int
    tags: tuple[str, ...]


def filtered_ids(project, kind: str = "all", value: str = "") -> list[int]:
    if kind == "all":
        return project.media.ids()
    if kind == "unlabelled":
        return project.media.ids(f"NOT {_LABELLED} AND NOT {_TAGGED}")
    if kind == "labelled":
        return project.media.ids(f"{_LABELLED} OR {_TAGGED}")
    if kind == "class":
        return project.media.ids(
            "EXISTS (SELECT 1 FROM boxes b JOIN classes c ON c.id = b.class_id "
            "WHERE b.media_id = m.id AND c.name = ? AND b.source != 'predicted')", (value,))
    if kind == "tag":
        return project.media.ids(
            "EXISTS (SELECT 1 FROM media_tags mt JOIN tags t ON t.id = mt.tag_id "
            "WHERE mt.media_id = m.id AND t.name = ?)", (value,))
    raise ValueError(f"unknown filter {kind!r}")


def rows_for(project, ids: list[int]) -> dict[int, BrowseRow]:
    """Rows for a page of ids, in one query each for media, box counts and tags."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    counts = dict(project.conn.execute(
        f"SELECT media_id, COUNT(*) FROM boxes WHERE media_id IN ({marks}) "
        "AND source != 'predicted' GROUP BY media_id", ids).fetchall())
    tags: dict[int, list[str]] = {}
    for media_id, name in project.conn.execute(
        f"SELECT mt.media_id, t.name FROM media_tags mt JOIN tags t ON t.id = mt.tag_id "
        f"WHERE mt.media_id IN ({marks}) ORDER BY t.position", ids):
        tags.setdefault(media_id, []).append(name)
    rows = {}
    for media_id, name, kind, path in project.conn.execute(
        f"SELECT id, name, kind, path FROM media WHERE id IN ({marks})", ids):
        rows[media_id] = BrowseRow(media_id, name, kind, str(project.resolve(path)),
                                   counts.get(media_id, 0), tuple(tags.get(media_id, ())))
    return rows


def next_unlabelled(project, after_id: int) -> int | None:
    """The first media after ``after_id`` (wrapping around) with no boxes and no tags."""
    ids = filtered_ids(project, "unlabelled")
    later = [i for i in ids if i > after_id]
    return (later or ids or [None])[0]
