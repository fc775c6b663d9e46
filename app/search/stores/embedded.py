"""The embedded store (the default): the vectors of the project's SQLite in one
in-memory matrix, searched exactly with one matrix product and ``np.argpartition``
(top-10 over 1,000,000 x 128 in ~0.1 s here), or with faiss (optional, not a
dependency) when it is importable and no filter is given: a flat inner-product
index, exact too. An HNSW graph is built only when asked (``hnsw_from``): at 1M
random vectors it took 20 minutes to build on this machine's 2 cores, a wait the
first search of a session cannot afford, for 1 ms searches whose recall depends on
the data (0.10 at ef 64 on random vectors; see tests/benchmarks/RESULTS.md). Past
a few million items, use a Qdrant server.

Filters are exact: payload fields are kept as columns (small integer codes) and
inverted lists (tags, classes), so a filter is a boolean mask over the rows; a
selective one scores only its rows. Replaced and deleted rows are left dead in
place and dropped in one compaction when they pile up, so a sync of a few changes
never copies the matrix.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Iterable, Sequence

import numpy as np

from app.search.filters import LIST_FIELDS, Where
from app.search.stores.base import Hit, Point, VectorStore, payload_of
from app.store.models import EmbeddingKey
from app.store.search_items import SearchItem

GATHER_BELOW = 1 / 4      # a filter keeping fewer rows than this scores only them
FAISS_DEAD_MAX = 256      # faiss cannot drop rows: past this many dead ones, search exactly
_CODES = {"kind": ("image", "frame", "box"), "media_kind": ("image", "video"),
          "split": ("train", "val", "test", "none"), "labelled": (False, True)}


class EmbeddedStore(VectorStore):
    kind = "embedded"
    bulk_load = True          # the whole run is in memory anyway: build it column by column

    def __init__(self, use_faiss: bool | None = None, hnsw_from: int | None = None):
        super().__init__()
        self.use_faiss = use_faiss
        self.hnsw_from = hnsw_from
        self._reset()

    @property
    def description(self) -> str:
        return "embedded (project SQLite, in-memory index)"

    def _reset(self) -> None:
        self._vectors = np.zeros((0, 0), np.float32)   # rows beyond _n are spare capacity
        self._n = 0
        self._alive = np.zeros(0, bool)
        self._keys: list[EmbeddingKey | None] = []
        # a payload dict, or the item load_items was given until someone asks (_payload)
        self._payloads: list[dict | SearchItem | None] = []
        self._run = 0                                   # the run of those items
        self._row: dict[EmbeddingKey, int] = {}
        self._cols = {f: np.zeros(0, np.int8) for f in _CODES}
        self._media = np.zeros(0, np.int64)
        self._lists: dict[str, dict[Any, set[int]]] = {f: {} for f in LIST_FIELDS}
        self._list_arrays: dict[tuple[str, Any], np.ndarray] = {}
        self._faiss = None
        self._faiss_rows = 0

    # -- writing -----------------------------------------------------------------------
    def upsert(self, points: Sequence[Point]) -> None:
        if not points:
            return
        self._drop([p.key for p in points if p.key in self._row])
        block = np.stack([np.asarray(p.vector, np.float32).reshape(-1) for p in points])
        start = self._grow(len(points), block.shape[1])
        self._vectors[start:start + len(points)] = block
        for i, p in enumerate(points):
            row = start + i
            self._alive[row] = True
            self._keys.append(p.key)
            self._payloads.append(None)
            self._row[p.key] = row
            self._index(row, p.payload)
        if len(self._row) < 0.8 * self._n and self._n - len(self._row) > 1000:
            self._compact()

    def load_items(self, items: Sequence[SearchItem], vectors: np.ndarray, run_id: int) -> None:
        """Replace everything with a run's items and their vectors, column by column (a
        first sync: ~1M items would take minutes through ``upsert``); payload dicts
        are made only for the rows a later sync asks about."""
        self._reset()
        n = len(items)
        if not n:
            return
        self._vectors = np.ascontiguousarray(vectors, np.float32)
        self._n = n
        self._alive = np.ones(n, bool)
        keys, _stamps, media_kinds, splits, tags, classes, labelled = zip(*items)
        self._keys = list(keys)
        self._row = dict(zip(keys, range(n)))
        self._payloads, self._run = list(items), run_id
        self._media = np.fromiter(map(itemgetter(1), keys), np.int64, n)
        facts = {"kind": map(itemgetter(0), keys), "media_kind": media_kinds,
                 "split": (s or "none" for s in splits), "labelled": map(bool, labelled)}
        for f, codes in _CODES.items():
            lookup = {v: i for i, v in enumerate(codes)}
            self._cols[f] = np.fromiter(map(lookup.__getitem__, facts[f]), np.int8, n)
        for f, values in (("tags", tags), ("classes", classes)):
            lists = self._lists[f]
            for row, held in enumerate(values):
                for v in held:
                    lists.setdefault(v, set()).add(row)

    def _payload(self, row: int) -> dict[str, Any]:
        p = self._payloads[row]
        if isinstance(p, SearchItem):
            p = self._payloads[row] = payload_of(p, self._run)
        return p

    def set_payloads(self, payloads: dict[EmbeddingKey, dict[str, Any]]) -> None:
        for key, payload in payloads.items():
            row = self._row.get(key)
            if row is not None:
                self._unindex(row)
                self._index(row, payload)

    def delete(self, keys: Iterable[EmbeddingKey]) -> None:
        self._drop([k for k in keys if k in self._row])

    def clear(self) -> None:
        self._reset()

    def _drop(self, keys: list[EmbeddingKey]) -> None:
        for key in keys:
            row = self._row.pop(key)
            self._unindex(row)
            self._alive[row] = False
            self._keys[row] = None
            self._payloads[row] = None

    def _grow(self, m: int, dim: int) -> int:
        if self._n == 0 and not self._row:
            self._vectors = np.zeros((0, dim), np.float32)
        if dim != self._vectors.shape[1]:
            raise ValueError(f"vectors of {dim} dimensions into a store of "
                             f"{self._vectors.shape[1]}")
        need = self._n + m
        if need > len(self._vectors):
            cap = max(need, int(len(self._vectors) * 1.5), 1024)
            grown = np.zeros((cap, dim), np.float32)
            grown[:self._n] = self._vectors[:self._n]
            self._vectors = grown
            self._alive = _extend(self._alive, cap)
            self._media = _extend(self._media, cap)
            for f in self._cols:
                self._cols[f] = _extend(self._cols[f], cap)
        start, self._n = self._n, need
        return start

    def _index(self, row: int, payload: dict[str, Any]) -> None:
        self._payloads[row] = payload
        self._media[row] = payload["media"]
        for f, codes in _CODES.items():
            self._cols[f][row] = codes.index(payload[f])
        for f in LIST_FIELDS:
            for v in payload[f]:
                self._lists[f].setdefault(v, set()).add(row)
                self._list_arrays.pop((f, v), None)

    def _unindex(self, row: int) -> None:
        payload = self._payload(row)
        for f in LIST_FIELDS:
            for v in payload[f]:
                rows = self._lists[f].get(v)
                if rows is not None:
                    rows.discard(row)
                    self._list_arrays.pop((f, v), None)

    def _compact(self) -> None:
        live = [(self._keys[r], self._payload(r)) for r in range(self._n) if self._alive[r]]
        vectors = self._vectors[:self._n][self._alive[:self._n]].copy()
        self._reset()
        self.upsert([Point(k, v, p) for (k, p), v in zip(live, vectors)])

    # -- reading -----------------------------------------------------------------------
    def count(self, where: Where | None = None) -> int:
        if not where:
            return len(self._row)
        return int(self._mask(where).sum())

    def get(self, keys: Iterable[EmbeddingKey]) -> dict[EmbeddingKey, dict[str, Any]]:
        return {k: self._payload(self._row[k]) for k in keys if k in self._row}

    def delete_media(self, media_ids: Sequence[int]) -> int:
        rows = np.flatnonzero(np.isin(self._media[:self._n], list(media_ids)) & self._alive[:self._n])
        self._drop([self._keys[r] for r in rows])
        return len(rows)

    def search(self, vector: np.ndarray, k: int = 10, where: Where | None = None) -> list[Hit]:
        n = self._n
        if k <= 0 or not self._row:
            return []
        q = np.ascontiguousarray(vector, np.float32).reshape(-1)
        if not where:
            if n - len(self._row) <= FAISS_DEAD_MAX:
                index = self._faiss_index()
                if index is not None:
                    return self._search_faiss(index, q, k)
            rows, scores = None, self._vectors[:n] @ q
            if len(self._row) < n:
                scores[~self._alive[:n]] = -np.inf
            keep = len(self._row)
        else:
            rows = np.flatnonzero(self._mask(where))
            keep = len(rows)
            if keep == 0:
                return []
            # Few rows: score only them (a gather); many: score all, then pick them.
            scores = (self._vectors[rows] @ q if keep < GATHER_BELOW * n
                      else (self._vectors[:n] @ q)[rows])
        k = min(k, keep)
        m = len(scores)
        top = np.argpartition(scores, m - k)[m - k:] if k < m else np.arange(m)
        top = top[np.lexsort((top, -scores[top]))]       # best first; ties by row
        found = top if rows is None else rows[top]
        return [Hit(self._keys[r], float(s)) for r, s in zip(found, scores[top])]

    def _mask(self, where: Where) -> np.ndarray:
        n = self._n
        mask = self._alive[:n].copy()
        for c in where.conditions:
            if c.field in LIST_FIELDS:
                hit = np.zeros(n, bool)
                for v in c.values:
                    hit[self._list_rows(c.field, v)] = True
            else:
                col = self._cols[c.field][:n]
                hit = np.zeros(n, bool)
                for v in c.values:           # a few codes: == beats np.isin 1000-fold
                    if v in _CODES[c.field]:
                        hit |= col == _CODES[c.field].index(v)
            mask &= ~hit if c.negate else hit
        return mask

    def _list_rows(self, field: str, value) -> np.ndarray:
        """Rows whose list field holds ``value``, as an array (cached until it changes)."""
        cached = self._list_arrays.get((field, value))
        if cached is None:
            rows = self._lists[field].get(value, ())
            cached = self._list_arrays[(field, value)] = np.fromiter(rows, np.int64, len(rows))
        return cached

    # -- faiss (optional) ----------------------------------------------------------------
    def _faiss_index(self):
        if self.use_faiss is False or not self._row:
            return None
        try:
            import faiss  # optional accelerator
        except ImportError:
            if self.use_faiss:
                raise
            return None
        if self._faiss is None:
            d = self._vectors.shape[1]
            if self.hnsw_from is not None and len(self._row) >= self.hnsw_from:
                self._faiss = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
                self._faiss.hnsw.efSearch = 64
            else:
                self._faiss = faiss.IndexFlatIP(d)
            self._faiss_rows = 0
        if self._faiss_rows < self._n:          # rows appended since: add them (ids = rows)
            self._faiss.add(self._vectors[self._faiss_rows:self._n])
            self._faiss_rows = self._n
        return self._faiss

    def _search_faiss(self, index, q: np.ndarray, k: int) -> list[Hit]:
        dead = self._n - len(self._row)
        scores, rows = index.search(q.reshape(1, -1), min(k + dead, self._n))
        hits = [Hit(self._keys[r], float(s)) for s, r in zip(scores[0], rows[0])
                if r >= 0 and self._alive[r]]
        return hits[:k]


def _extend(a: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, a.dtype)
    out[:len(a)] = a
    return out
