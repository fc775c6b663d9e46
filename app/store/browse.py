"""What the media browser lists: filtered, ordered id lists and paged row lookups.

The browser holds only the list of ids (100,000 ints is nothing); rows are read a
page at a time as they scroll into view. Filters and the status order follow the
labelling status (``app.store.repos.status``): not labelled, labelled (boxes or no
objects), no objects, needs review.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.store.repos.status import EMPTY, LABELLED, MEDIA_STATUS, REVIEW, UNLABELLED, WHERE_STATUS

FILTERS = ("all", "unlabelled", "labelled", "empty", "review", "untagged", "class", "tag")
ORDERS = ("added", "status")
_TAGGED = "EXISTS (SELECT 1 FROM media_tags t WHERE t.media_id = m.id)"
# status order: what needs work first
_STATUS_RANK = (f"CASE {MEDIA_STATUS} WHEN '{REVIEW}' THEN 0 WHEN '{UNLABELLED}' THEN 1 "
                f"WHEN '{EMPTY}' THEN 2 ELSE 3 END")


@dataclass(frozen=True)
class BrowseRow:
    id: int
    name: str
    kind: str
    path: str          # absolute, for thumbnails
    box_count: int
    tags: tuple[str, ...]
    label_status: str = UNLABELLED   # of the image, or of a video's frames together


def filtered_ids(project, kind: str = "all", value: str = "", order: str = "added") -> list[int]:
    """Media ids for a filter, in browse order: as added, or by status (needs review,
    not labelled, no objects, labelled; as added within each)."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}")
    by = f"{_STATUS_RANK}, m.id" if order == "status" else ""
    if kind == "all":
        return project.media.ids(order=by)
    if kind in (UNLABELLED, LABELLED, EMPTY, REVIEW):
        return project.media.ids(WHERE_STATUS[kind], order=by)
    if kind == "untagged":
        return project.media.ids(f"NOT {_TAGGED}", order=by)
    if kind == "class":
        return project.media.ids(
            "EXISTS (SELECT 1 FROM boxes b JOIN classes c ON c.id = b.class_id "
            "WHERE b.media_id = m.id AND c.name = ? AND b.source != 'predicted')", (value,), by)
    if kind == "tag":
        return project.media.ids(
            "EXISTS (SELECT 1 FROM media_tags mt JOIN tags t ON t.id = mt.tag_id "
            "WHERE mt.media_id = m.id AND t.name = ?)", (value,), by)
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
    status = project.status.media_status(ids)
    rows = {}
    for media_id, name, kind, path in project.conn.execute(
        f"SELECT id, name, kind, path FROM media WHERE id IN ({marks})", ids):
        rows[media_id] = BrowseRow(media_id, name, kind, str(project.resolve(path)),
                                   counts.get(media_id, 0), tuple(tags.get(media_id, ())),
                                   status.get(media_id, UNLABELLED))
    return rows


def next_unlabelled(project, after_id: int) -> int | None:
    """The first media after ``after_id`` (wrapping around) not labelled yet."""
    ids = filtered_ids(project, UNLABELLED)
    later = [i for i in ids if i > after_id]
    return (later or ids or [None])[0]
