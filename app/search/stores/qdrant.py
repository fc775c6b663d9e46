"""Qdrant as the vector store, through ``qdrant-client`` (Apache-2.0; the optional
``vectors`` extra): its local mode (no server: a folder in the project, exact
search, one process at a time; fine up to some tens of thousands of items) or a
Qdrant server by URL and API key (HNSW, payload indexes; large or shared
collections).

One collection per project and embedder run, ``kestrel_<project>_run<id>``, created
on the first upload with the run's vector size and dot-product scores (the vectors
are unit length: cosine). Points are identified by a UUID derived from the item's
key; the payload carries the key back.
"""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from app.search.filters import Where
from app.search.stores.base import Hit, Point, StoreError, VectorStore, key_of, point_id
from app.store.models import EmbeddingKey

BATCH = 512
_KEY_FIELDS = ["kind", "media", "frame", "box"]
_INDEXES = {"kind": "keyword", "media_kind": "keyword", "split": "keyword", "labelled": "bool",
            "tags": "integer", "classes": "integer", "media": "integer"}


def _client_module():
    try:
        import qdrant_client
        from qdrant_client import models
    except ImportError:
        raise StoreError("the Qdrant store needs qdrant-client: pip install 'kestrel[vectors]' "
                         "(or pip install qdrant-client)") from None
    return qdrant_client, models


class QdrantStore(VectorStore):
    kind = "qdrant"

    def __init__(self, collection: str, *, path: Path | None = None, url: str | None = None,
                 api_key: str | None = None, state_key: str | None = None, timeout: int = 10):
        super().__init__()
        qdrant_client, self._m = _client_module()
        self.collection = collection
        self.path, self.url = path, url
        self.state_key = state_key
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
            try:
                self.client = qdrant_client.QdrantClient(path=str(path))
            except RuntimeError as exc:      # portalocker: another client holds the folder
                raise StoreError(f"the Qdrant folder {path} is open in another Kestrel process "
                                 "(the window or a command); local mode serves one process at "
                                 f"a time, a Qdrant server many ({exc})") from None
        else:
            self.client = qdrant_client.QdrantClient(url=url, api_key=api_key or None,
                                                     timeout=timeout, check_compatibility=False)
            try:
                self.client.get_collections()
            except Exception as exc:
                self.client.close()
                raise StoreError(f"cannot reach the Qdrant server at {url}: "
                                 f"{_reason(exc)}") from None
        self._exists: bool | None = None

    @property
    def description(self) -> str:
        where = f"local folder {self.path}" if self.path is not None else f"server {self.url}"
        return f"Qdrant ({where}), collection {self.collection}"

    def close(self) -> None:
        self.client.close()

    # -- the collection ------------------------------------------------------------------
    def _ready(self) -> bool:
        if not self._exists:
            self._exists = self.client.collection_exists(self.collection)
            if self._exists and self.path is not None:
                _quick_commits(self.client, self.collection)
        return self._exists

    def _create(self, dim: int) -> None:
        m = self._m
        if self._ready():
            have = self.client.get_collection(self.collection).config.params.vectors.size
            if have != dim:
                raise StoreError(f"Qdrant collection {self.collection} holds {have}-d vectors, "
                                 f"this run's are {dim}-d")
            return
        self.client.create_collection(self.collection, vectors_config=m.VectorParams(
            size=dim, distance=m.Distance.DOT))
        if self.path is not None:
            _quick_commits(self.client, self.collection)
        else:       # payload indexes serve filters on a server only
            for field, schema in _INDEXES.items():
                self.client.create_payload_index(self.collection, field,
                                                 field_schema=m.PayloadSchemaType(schema))
        self._exists = True

    # -- writing -----------------------------------------------------------------------
    def upsert(self, points: Sequence[Point]) -> None:
        if not points:
            return
        self._create(len(np.asarray(points[0].vector).reshape(-1)))
        for i in range(0, len(points), BATCH):
            part = points[i:i + BATCH]
            batch = self._m.Batch(
                ids=[point_id(p.key) for p in part],
                vectors=np.stack([np.asarray(p.vector, np.float32).reshape(-1)
                                  for p in part]).tolist(),
                payloads=[p.payload for p in part])
            with warnings.catch_warnings():
                # local mode warns on every write past 20,000 points (the README says
                # where its limits are); one line per batch would bury the console
                warnings.filterwarnings("ignore", "Local mode is not recommended")
                self.client.upsert(self.collection, points=batch, wait=True)

    def set_payloads(self, payloads: dict[EmbeddingKey, dict[str, Any]]) -> None:
        if not payloads or not self._ready():
            return
        m = self._m
        ops = [m.OverwritePayloadOperation(overwrite_payload=m.SetPayload(
            payload=p, points=[point_id(k)])) for k, p in payloads.items()]
        for i in range(0, len(ops), BATCH):
            self.client.batch_update_points(self.collection, update_operations=ops[i:i + BATCH],
                                            wait=True)

    def delete(self, keys: Iterable[EmbeddingKey]) -> None:
        ids = [point_id(k) for k in keys]
        if not ids or not self._ready():
            return
        for i in range(0, len(ids), BATCH):
            self.client.delete(self.collection, wait=True,
                               points_selector=self._m.PointIdsList(points=ids[i:i + BATCH]))

    def clear(self) -> None:
        if self._ready():
            self.client.delete_collection(self.collection)
        self._exists = False

    # -- reading -----------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int = 10, where: Where | None = None) -> list[Hit]:
        if k <= 0 or not self._ready():
            return []
        q = np.asarray(vector, np.float32).reshape(-1).tolist()
        found = self.client.query_points(self.collection, query=q, limit=k,
                                         query_filter=self._filter(where),
                                         with_payload=_KEY_FIELDS).points
        return [Hit(key_of(p.payload), float(p.score)) for p in found]

    def count(self, where: Where | None = None) -> int:
        if not self._ready():
            return 0
        return self.client.count(self.collection, count_filter=self._filter(where),
                                 exact=True).count

    def get(self, keys: Iterable[EmbeddingKey]) -> dict[EmbeddingKey, dict[str, Any]]:
        out: dict[EmbeddingKey, dict[str, Any]] = {}
        ids = [point_id(k) for k in keys]
        if not ids or not self._ready():
            return out
        for i in range(0, len(ids), BATCH):
            found = self.client.retrieve(self.collection, ids=ids[i:i + BATCH],
                                         with_payload=True, with_vectors=False)
            out.update((key_of(p.payload), p.payload) for p in found)
        return out

    def delete_media(self, media_ids: Sequence[int]) -> int:
        if not media_ids or not self._ready():
            return 0
        m = self._m
        flt = m.Filter(must=[m.FieldCondition(key="media",
                                              match=m.MatchAny(any=list(media_ids)))])
        n = self.client.count(self.collection, count_filter=flt, exact=True).count
        if n:
            self.client.delete(self.collection, points_selector=m.FilterSelector(filter=flt),
                               wait=True)
        return n

    def _filter(self, where: Where | None):
        if not where:
            return None
        m = self._m
        must, must_not = [], []
        for c in where.conditions:
            match = (m.MatchValue(value=c.values[0]) if len(c.values) == 1
                     else m.MatchAny(any=list(c.values)))
            (must_not if c.negate else must).append(m.FieldCondition(key=c.field, match=match))
        return m.Filter(must=must or None, must_not=must_not or None)


def _quick_commits(client, collection: str) -> None:
    """Local mode writes each point in its own SQLite commit, an fsync each (~10 ms:
    20,000 points took minutes). WAL with synchronous=NORMAL makes a commit cheap and
    stays safe when the process dies; a power cut may lose the last writes, which the
    next sync notices (its count differs) and sends again. Reached through the local
    client's internals: when they change, writes are only slower."""
    local = getattr(client, "_client", None)
    found = getattr(local, "collections", {}).get(collection)
    conn = getattr(getattr(found, "storage", None), "storage", None)
    if isinstance(conn, sqlite3.Connection):
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
