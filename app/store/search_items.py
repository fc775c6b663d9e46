"""What visual search knows about each embedded item, read from the project.

A vector store keeps, beside each vector, the facts its filters use: the media's
kind and split, its tags, the classes on the picture (or the box's class), whether
the media is labelled. ``items`` reads them for some media; ``changed_since`` says
which media had any of them change (the ``search_changes`` log that the schema's
triggers keep, whoever the writer), so a store is kept in step by re-reading only
those.
"""

from __future__ import annotations

from typing import Iterable, Iterator, NamedTuple, Sequence

import numpy as np

from app.store.models import EmbeddingKey

CHUNK = 2000          # media per query (well under SQLite's bound on parameters)


class SearchItem(NamedTuple):      # a tuple: a million are made at a first sync
    key: EmbeddingKey
    stamp: str                  # as in the embeddings table: a new one means a new vector
    media_kind: str             # "image" | "video"
    split: str | None           # "train" | "val" | "test" | None
    tags: tuple[int, ...]       # tag ids of the media
    classes: tuple[int, ...]    # a box: its class; a picture: classes labelled on it
    labelled: bool


def labelled_media(project, media_ids: Sequence[int] | None = None) -> set[int]:
    """THE definition of "labelled" for search filters, in one place so it can be
    switched: for now a media is labelled when it has a labelled (not predicted) box
    or a tag. When this changes, mark the media whose status changes in
    ``search_changes`` (see schema v8) so stores re-read them."""
    sql = ("SELECT media_id FROM boxes WHERE source != 'predicted'{w} "
           "UNION SELECT media_id FROM media_tags{w2}")
    if media_ids is None:
        return {r[0] for r in project.db.execute(sql.format(w="", w2=""))}
    out: set[int] = set()
    for chunk in _chunks(media_ids):
        marks = ",".join("?" * len(chunk))
        out.update(r[0] for r in project.db.execute(
            sql.format(w=f" AND media_id IN ({marks})", w2=f" WHERE media_id IN ({marks})"),
            [*chunk, *chunk]))
    return out


# -- the change log ------------------------------------------------------------------------
def change_head(project) -> int:
    """The newest change's seq (0: none yet)."""
    return project.db.execute("SELECT COALESCE(MAX(seq), 0) FROM search_changes").fetchone()[0]


def changed_since(project, seq: int) -> list[int]:
    """Media whose search facts or embeddings changed after ``seq``."""
    return [r[0] for r in project.db.execute(
        "SELECT media_id FROM search_changes WHERE seq > ? ORDER BY media_id", (seq,))]


def existing_media(project, media_ids: Sequence[int]) -> set[int]:
    out: set[int] = set()
    for chunk in _chunks(media_ids):
        marks = ",".join("?" * len(chunk))
        out.update(r[0] for r in project.db.execute(
            f"SELECT id FROM media WHERE id IN ({marks})", chunk))
    return out


def known_keys(project, run_id: int, media_ids: Sequence[int]) -> set[EmbeddingKey]:
    """Every key of ``run_id`` a store may hold for these media: those embedded now
    (a deleted box's too, until its row is pruned) and those deleted since
    (``search_gone``)."""
    out: set[EmbeddingKey] = set()
    for chunk in _chunks(media_ids):
        marks = ",".join("?" * len(chunk))
        for table in ("embeddings", "search_gone"):
            out.update(EmbeddingKey(*r) for r in project.db.execute(
                f"SELECT kind, media_id, frame, box_id FROM {table} "
                f"WHERE run_id = ? AND media_id IN ({marks})", [run_id, *chunk]))
    return out


def embedded_media(project, run_id: int) -> list[int]:
    return [r[0] for r in project.db.execute(
        "SELECT DISTINCT media_id FROM embeddings WHERE run_id = ? ORDER BY media_id", (run_id,))]


def embedded_media_count(project, run_id: int) -> int:
    return project.db.execute("SELECT COUNT(DISTINCT media_id) FROM embeddings WHERE run_id = ?",
                              (run_id,)).fetchone()[0]


# -- items ---------------------------------------------------------------------------------
_ITEM_SQL = ("SELECT e.kind, e.media_id, e.frame, e.box_id, e.stamp, m.kind, m.split, b.class_id{v} "
             "FROM embeddings e JOIN media m ON m.id = e.media_id "
             "LEFT JOIN boxes b ON e.kind = 'box' AND b.id = e.box_id AND b.source != 'predicted' "
             "WHERE e.run_id = ?{w}")


def items(project, run_id: int, media_ids: Sequence[int]) -> dict[EmbeddingKey, SearchItem]:
    """Every searchable item of ``run_id`` among ``media_ids``. A box's vector counts
    only while the box is still a label (a deleted box leaves the store at once,
    before the next embedding prunes its row)."""
    out: dict[EmbeddingKey, SearchItem] = {}
    for chunk in _chunks(media_ids):
        marks = ",".join("?" * len(chunk))
        facts = _facts(project, f" WHERE media_id IN ({marks})", f" AND media_id IN ({marks})",
                       chunk, labelled_media(project, chunk))
        rows = project.db.execute(_ITEM_SQL.format(v="", w=f" AND e.media_id IN ({marks})"),
                                  [run_id, *chunk])
        for item in _items(rows, *facts):
            out[item.key] = item
    return out


def all_items(project, run_id: int) -> tuple[list[SearchItem], np.ndarray]:
    """Every searchable item of a run and its vectors (N, D), in one pass: what a store
    built from nothing takes in. Rows are streamed: only the items and the vectors'
    bytes are held, not a million row tuples."""
    tags, classes, labelled = _facts(project, "", "", [], labelled_media(project))
    found: list[SearchItem] = []
    blobs: list[bytes] = []
    for row in project.db.execute(_ITEM_SQL.format(v=", e.vector", w=""), (run_id,)):
        item = _item(row, tags, classes, labelled)
        if item is not None:
            found.append(item)
            blobs.append(row[8])
    if not found:
        return found, np.zeros((0, 0), np.float32)
    joined = bytearray().join(blobs)        # writable: the array is made without a copy
    blobs.clear()
    return found, np.frombuffer(joined, np.float32).reshape(len(found), -1)


def _facts(project, where: str, and_where: str, args: list, labelled: set[int]):
    tags: dict[int, tuple[int, ...]] = {}
    for media_id, tag_id in project.db.execute(
            f"SELECT media_id, tag_id FROM media_tags{where} ORDER BY tag_id", args):
        tags[media_id] = tags.get(media_id, ()) + (tag_id,)
    classes: dict[tuple[int, int], tuple[int, ...]] = {}
    for media_id, frame, class_id in project.db.execute(
            "SELECT DISTINCT media_id, frame, class_id FROM boxes WHERE source != 'predicted'"
            f"{and_where} ORDER BY class_id", args):
        classes[(media_id, frame)] = classes.get((media_id, frame), ()) + (class_id,)
    return tags, classes, labelled


def _items(rows, tags, classes, labelled) -> Iterator[SearchItem]:
    for row in rows:
        item = _item(row, tags, classes, labelled)
        if item is not None:
            yield item


def _item(row, tags, classes, labelled) -> SearchItem | None:
    kind, media_id, frame, box_id, stamp, media_kind, split, box_class = row[:8]
    if kind == "box":
        if box_class is None:           # no longer a label: not searchable
            return None
        cls: tuple[int, ...] = (box_class,)
    else:
        cls = classes.get((media_id, frame), ())
    return SearchItem(EmbeddingKey(kind, media_id, frame, box_id), stamp, media_kind, split,
                      tags.get(media_id, ()), cls, media_id in labelled)


def vectors(project, run_id: int, keys: Iterable[EmbeddingKey]) -> dict[EmbeddingKey, np.ndarray]:
    """The stored vectors of ``keys`` (read a chunk of media at a time)."""
    wanted = set(keys)
    out: dict[EmbeddingKey, np.ndarray] = {}
    for chunk in _chunks(sorted({k.media_id for k in wanted})):
        marks = ",".join("?" * len(chunk))
        for kind, media_id, frame, box_id, blob in project.db.execute(
                "SELECT kind, media_id, frame, box_id, vector FROM embeddings "
                f"WHERE run_id = ? AND media_id IN ({marks})", [run_id, *chunk]):
            key = EmbeddingKey(kind, media_id, frame, box_id)
            if key in wanted:
                out[key] = np.frombuffer(blob, np.float32)
    return out


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    ids = list(ids)
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]
