"""Labelling status of every picture (an image, or one frame of a video).

A picture is *labelled* when it has label boxes (manual or interpolated) or when the
user marked it "no objects" (mark 'empty': a true negative); otherwise it is *not
labelled* yet, whatever it shows. A 'review' mark says its labels need another look:
such a picture is left out of training and review until the mark is lifted. Status
is derived from boxes and marks, never stored twice, so drawing a box makes a
picture labelled and deleting its last box makes it not labelled again.
"""

from __future__ import annotations

from typing import Iterable

from app.store.repos.base import Repository

UNLABELLED, LABELLED, EMPTY, REVIEW = "unlabelled", "labelled", "empty", "review"
STATUSES = (UNLABELLED, LABELLED, EMPTY, REVIEW)
MARKS = (EMPTY, REVIEW)

# SQL conditions on ``media m`` (any frame), for the browser's filters and order.
HAS_BOXES = ("EXISTS (SELECT 1 FROM boxes b WHERE b.media_id = m.id "
             "AND b.source != 'predicted')")
MARKED_EMPTY = "EXISTS (SELECT 1 FROM label_marks k WHERE k.media_id = m.id AND k.mark = 'empty')"
MARKED_REVIEW = "EXISTS (SELECT 1 FROM label_marks k WHERE k.media_id = m.id AND k.mark = 'review')"
# The status of a media item: for a video, of its frames taken together (any frame
# needing review, else any labelled frame, else not labelled).
MEDIA_STATUS = (f"CASE WHEN {MARKED_REVIEW} THEN '{REVIEW}' WHEN {HAS_BOXES} THEN '{LABELLED}' "
                f"WHEN {MARKED_EMPTY} THEN '{EMPTY}' ELSE '{UNLABELLED}' END")
WHERE_STATUS = {
    UNLABELLED: f"NOT {HAS_BOXES} AND NOT {MARKED_EMPTY} AND NOT {MARKED_REVIEW}",
    LABELLED: f"({HAS_BOXES} OR {MARKED_EMPTY}) AND NOT {MARKED_REVIEW}",
    EMPTY: f"{MARKED_EMPTY} AND NOT {HAS_BOXES} AND NOT {MARKED_REVIEW}",
    REVIEW: MARKED_REVIEW,
}


def _check(mark: str) -> None:
    if mark not in MARKS:
        raise ValueError(f"unknown label mark {mark!r} (choose from {', '.join(MARKS)})")


class StatusRepository(Repository):
    # -- one picture -----------------------------------------------------------------
    def marks(self, media_id: int, frame: int = 0) -> set[str]:
        return {r[0] for r in self.db.execute(
            "SELECT mark FROM label_marks WHERE media_id = ? AND frame = ?", (media_id, frame))}

    def of(self, media_id: int, frame: int = 0) -> str:
        """'unlabelled', 'labelled' (has boxes), 'empty' (no objects) or 'review'."""
        marks = self.marks(media_id, frame)
        if REVIEW in marks:
            return REVIEW
        has = self.db.execute("SELECT 1 FROM boxes WHERE media_id = ? AND frame = ? "
                              "AND source != 'predicted' LIMIT 1", (media_id, frame)).fetchone()
        if has:
            return LABELLED
        return EMPTY if EMPTY in marks else UNLABELLED

    def is_labelled(self, media_id: int, frame: int = 0) -> bool:
        return self.of(media_id, frame) in (LABELLED, EMPTY)

    # -- edits (the document wraps them in one undoable step) ----------------------------
    def set_mark(self, media_id: int, frame: int, mark: str, on: bool = True) -> None:
        _check(mark)
        with self.db.transaction() as c:
            if on:
                c.execute("INSERT OR IGNORE INTO label_marks (media_id, frame, mark) "
                          "VALUES (?, ?, ?)", (media_id, frame, mark))
            else:
                c.execute("DELETE FROM label_marks WHERE media_id = ? AND frame = ? AND mark = ?",
                          (media_id, frame, mark))

    def mark_many(self, pictures: Iterable[tuple[int, int]], mark: str) -> None:
        _check(mark)
        with self.db.transaction() as c:
            c.executemany("INSERT OR IGNORE INTO label_marks (media_id, frame, mark) "
                          "VALUES (?, ?, ?)", [(m, f, mark) for m, f in pictures])

    def clear_empty(self, pictures: Iterable[tuple[int, int]]) -> None:
        """Boxes were drawn on these pictures: they are no longer "no objects"."""
        with self.db.transaction() as c:
            c.executemany("DELETE FROM label_marks WHERE media_id = ? AND frame = ? "
                          "AND mark = 'empty'", list(pictures))

    # -- many pictures ---------------------------------------------------------------
    def marked(self, mark: str, media_id: int | None = None) -> set[tuple[int, int]]:
        """(media id, frame) of every picture carrying ``mark`` (of one media item)."""
        _check(mark)
        sql, args = "SELECT media_id, frame FROM label_marks WHERE mark = ?", (mark,)
        if media_id is not None:
            sql, args = sql + " AND media_id = ?", (mark, media_id)
        return {(r[0], r[1]) for r in self.db.execute(sql, args)}

    def labelled_pictures(self) -> set[tuple[int, int]]:
        """(media id, frame) of every labelled picture, the ones needing review left out:
        what training, validation and review use."""
        rows = self.db.execute(
            "SELECT media_id, frame FROM boxes WHERE source != 'predicted' "
            "UNION SELECT media_id, frame FROM label_marks WHERE mark = 'empty' "
            "EXCEPT SELECT media_id, frame FROM label_marks WHERE mark = 'review'")
        return {(r[0], r[1]) for r in rows}

    def labelled_images(self) -> list[int]:
        """Ids of the labelled images (boxes or no objects), none needing review."""
        return [r[0] for r in self.db.execute(
            f"SELECT m.id FROM media m WHERE m.kind = 'image' AND {WHERE_STATUS[LABELLED]} "
            "ORDER BY m.id")]

    def media_status(self, media_ids: list[int]) -> dict[int, str]:
        """Status per media item (a video's frames taken together), for browser rows."""
        if not media_ids:
            return {}
        marks = ",".join("?" * len(media_ids))
        return dict(self.db.execute(
            f"SELECT m.id, {MEDIA_STATUS} FROM media m WHERE m.id IN ({marks})", media_ids))

    def image_counts(self) -> dict[str, int]:
        """Images per status (every status listed)."""
        out = dict.fromkeys(STATUSES, 0)
        out.update(self.db.execute(
            f"SELECT {MEDIA_STATUS} AS s, COUNT(*) FROM media m WHERE m.kind = 'image' "
            "GROUP BY s").fetchall())
        return out

    def box_counts_by_name(self) -> dict[str, int]:
        """Label boxes per class name on the pictures training uses (those needing
        review left out), every class listed, in class order."""
        return {name: n for name, n in self.db.execute(
            "SELECT classes.name, COUNT(b.id) FROM classes LEFT JOIN boxes b "
            "ON b.class_id = classes.id AND b.source != 'predicted' AND NOT EXISTS "
            "(SELECT 1 FROM label_marks k WHERE k.media_id = b.media_id AND k.frame = b.frame "
            "AND k.mark = 'review') GROUP BY classes.id ORDER BY classes.position")}
