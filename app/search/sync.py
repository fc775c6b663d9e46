"""Keeping a vector store in step with the project, sending only what changed.

The project's SQLite is the record: the embeddings table holds every vector, the
label tables the facts filters read. Triggers (schema v8) mark each media whose
embeddings or facts change in ``search_changes`` with a rising seq. A store
remembers the seq and point count of its last sync; the next one re-reads only the
media marked since and, per item, sends a new vector (new item, or re-embedded:
its stamp differs), a new payload (labels changed), or a delete. A store whose
state is unknown, or whose count differs from what was left there, is rebuilt: a
chunk of media at a time, or, for a store that holds everything in memory anyway
(``bulk_load``: the embedded one), the whole run in one query and one pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from app.search.stores.base import Point, VectorStore, payload_of
from app.store import search_items

CHUNK = 2000         # media per round trip


@dataclass
class SyncReport:
    vectors: int = 0        # points sent with their vector
    payloads: int = 0       # payloads replaced (labels changed)
    deleted: int = 0
    rebuilt: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.vectors or self.payloads or self.deleted)


def sync(project, run_id: int, store: VectorStore,
         progress: Callable[[int, int], None] | None = None) -> SyncReport:
    report = SyncReport()
    head = search_items.change_head(project)
    state = store.load_state(project)
    count = store.count() if state is not None else None
    if state is not None and state == (head, count):
        return report
    if state is None or count != state[1]:
        store.clear()
        report.rebuilt = True
        if store.bulk_load:         # the whole run in one query, indexed in one pass
            total = search_items.embedded_media_count(project, run_id)
            if progress is not None:
                progress(0, total)
            found, vectors = search_items.all_items(project, run_id)
            store.load_items(found, vectors, run_id)
            report.vectors = len(found)
            store.save_state(project, head, store.count())
            if progress is not None:
                progress(total, total)
            return report
        media = search_items.embedded_media(project, run_id)
    else:
        media = search_items.changed_since(project, state[0])
    for i in range(0, len(media), CHUNK):
        chunk = media[i:i + CHUNK]
        _sync_media(project, run_id, store, chunk, report, held={} if report.rebuilt else None)
        if progress is not None:
            progress(min(i + CHUNK, len(media)), len(media))
    store.save_state(project, head, store.count())
    return report


def _sync_media(project, run_id: int, store: VectorStore, media: list[int],
                report: SyncReport, held=None) -> None:
    items = search_items.items(project, run_id, media)
    current = {k: payload_of(item, run_id) for k, item in items.items()}
    if held is None:
        # What the store may hold for these media: every key ever embedded for them
        # (deleted ones are remembered); media removed from the project go whole.
        removed = set(media) - search_items.existing_media(project, media)
        if removed:
            report.deleted += store.delete_media(sorted(removed))
        held = store.get(search_items.known_keys(project, run_id, media) | set(current))
    gone = [k for k in held if k not in current]
    fresh = [k for k, p in current.items() if k not in held or held[k]["stamp"] != p["stamp"]]
    renewed = {k: p for k, p in current.items()
               if k in held and held[k]["stamp"] == p["stamp"] and held[k] != p}
    if gone:
        store.delete(gone)
        report.deleted += len(gone)
    if fresh:
        vectors = search_items.vectors(project, run_id, fresh)
        points = [Point(k, vectors[k], current[k]) for k in fresh if k in vectors]
        store.upsert(points)
        report.vectors += len(points)
    if renewed:
        store.set_payloads(renewed)
        report.payloads += len(renewed)


def open_synced(project, run_id: int, spec=None, api_key: str | None = None) -> VectorStore:
    """The run's store in the project's chosen kind (or ``spec``), brought up to date."""
    from app.search.stores import open_store

    store = open_store(project, run_id, spec, api_key)
    try:
        sync(project, run_id, store)
    except BaseException:
        store.close()
        raise
    return store
