"""The small interface every vector store implements, and what it keeps per item.

A store holds, per embedding key, one vector and its payload: the item (kind,
media, frame, box), the facts filters read (media kind, split, tags, classes,
labelled) and the run and stamp it was embedded with. The project's SQLite keeps
every vector (it stays complete and portable); a store is the search index over
them, kept in step by ``app.search.sync``, which sends only what changed.
"""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from app.search.filters import Where
from app.search.index import Hit
from app.store.models import EmbeddingKey
from app.store.search_items import SearchItem

__all__ = ["Hit", "Point", "StoreError", "VectorStore", "key_of", "payload_of", "point_id"]

_NAMESPACE = uuid.UUID("6f1c2b9e-5a0d-4e8b-9a57-3e2d1c0b4a99")


class StoreError(RuntimeError):
    """A user-facing problem with a vector store: not installed, unreachable, in use."""


@dataclass(frozen=True)
class Point:
    key: EmbeddingKey
    vector: np.ndarray
    payload: dict[str, Any]


def payload_of(item: SearchItem, run_id: int) -> dict[str, Any]:
    k = item.key
    return {"kind": k.kind, "media": k.media_id, "frame": k.frame, "box": k.box_id,
            "media_kind": item.media_kind, "split": item.split or "none",
            "tags": list(item.tags), "classes": list(item.classes),
            "labelled": bool(item.labelled), "run": run_id, "stamp": item.stamp}


def key_of(payload: dict[str, Any]) -> EmbeddingKey:
    return EmbeddingKey(payload["kind"], int(payload["media"]), int(payload["frame"]),
                        int(payload["box"]))


def point_id(key: EmbeddingKey) -> str:
    """A stable id for stores that want one of their own (a UUID string)."""
    return str(uuid.uuid5(_NAMESPACE, f"{key.kind}/{key.media_id}/{key.frame}/{key.box_id}"))


class VectorStore(ABC):
    """One run's vectors. Scores are inner products of unit vectors (cosine)."""

    kind = "store"
    state_key: str | None = None   # project setting holding the sync state (None: in memory)
    bulk_load = False   # True: a first sync hands the whole run to load_items at once

    def __init__(self) -> None:
        self._state: tuple[int, int] | None = None

    @property
    def description(self) -> str:
        return self.kind

    @abstractmethod
    def upsert(self, points: Sequence[Point]) -> None:
        """Add points, or replace the vector and payload of keys already held."""

    @abstractmethod
    def set_payloads(self, payloads: dict[EmbeddingKey, dict[str, Any]]) -> None:
        """Replace the payloads of keys already held (their vectors stay)."""

    @abstractmethod
    def delete(self, keys: Iterable[EmbeddingKey]) -> None: ...

    @abstractmethod
    def search(self, vector: np.ndarray, k: int = 10, where: Where | None = None) -> list[Hit]:
        """The ``k`` items most similar to ``vector`` that match ``where``, best first."""

    @abstractmethod
    def count(self, where: Where | None = None) -> int: ...

    @abstractmethod
    def get(self, keys: Iterable[EmbeddingKey]) -> dict[EmbeddingKey, dict[str, Any]]:
        """The payloads held for those of ``keys`` the store has (a sync compares)."""

    @abstractmethod
    def delete_media(self, media_ids: Sequence[int]) -> int:
        """Drop every point of these media (removed from the project); how many."""

    @abstractmethod
    def clear(self) -> None:
        """Forget everything (a full sync follows)."""

    def load_items(self, items: Sequence[SearchItem], vectors: np.ndarray, run_id: int) -> None:
        """Take in a whole run into an empty store: ``items[i]`` with ``vectors[i]``.
        Point by point here; a store that sets ``bulk_load`` builds its index in one
        pass instead (a first sync then reads the run in one query, all in memory;
        other stores are synced a chunk of media at a time)."""
        for i in range(0, len(items), 1000):
            self.upsert([Point(it.key, v, payload_of(it, run_id))
                         for it, v in zip(items[i:i + 1000], vectors[i:i + 1000])])

    def close(self) -> None:
        pass

    # -- what the last sync took in: (change seq, count) ------------------------------------
    def load_state(self, project) -> tuple[int, int] | None:
        if self.state_key is None:
            return self._state
        text = project.settings.get(self.state_key)
        if not text:
            return None
        data = json.loads(text)
        return int(data["seq"]), int(data["count"])

    def save_state(self, project, seq: int, count: int) -> None:
        if self.state_key is None:
            self._state = (seq, count)
        else:
            project.settings.set(self.state_key, json.dumps({"seq": seq, "count": count}))
