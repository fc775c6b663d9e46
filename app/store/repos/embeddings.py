"""Stored embeddings: one float32 vector (BLOB) per run and item, where an item is an
image, a sampled video frame or a labelled box. ``stamp`` is the box's
``updated_at`` when it was embedded, so a moved box is embedded again and nothing
else is (incremental embedding)."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from app.store.models import EmbeddingKey
from app.store.repos.base import Repository


class EmbeddingRepository(Repository):
    def stamps(self, run_id: int) -> dict[EmbeddingKey, str]:
        rows = self.db.execute("SELECT kind, media_id, frame, box_id, stamp FROM embeddings "
                               "WHERE run_id = ?", (run_id,))
        return {EmbeddingKey(r[0], r[1], r[2], r[3]): r[4] for r in rows}

    def count(self, run_id: int) -> int:
        return self.db.execute("SELECT COUNT(*) FROM embeddings WHERE run_id = ?",
                                 (run_id,)).fetchone()[0]

    def put(self, run_id: int,
                       rows: Iterable[tuple[EmbeddingKey, str, np.ndarray]]) -> int:
        """Insert or replace (key, stamp, vector) rows in one transaction."""
        data = [(run_id, k.kind, k.media_id, k.frame, k.box_id, stamp,
                 np.ascontiguousarray(v, np.float32).tobytes()) for k, stamp, v in rows]
        with self.db.transaction() as c:
            c.executemany("INSERT OR REPLACE INTO embeddings (run_id, kind, media_id, frame, "
                          "box_id, stamp, vector) VALUES (?, ?, ?, ?, ?, ?, ?)", data)
        return len(data)

    def load(self, run_id: int, kinds: Iterable[str] | None = None
                        ) -> tuple[list[EmbeddingKey], np.ndarray]:
        """Keys and an (N, D) float32 matrix, in a stable order (kind, media, frame, box)."""
        sql, args = "SELECT kind, media_id, frame, box_id, vector FROM embeddings WHERE run_id = ?", [run_id]
        if kinds is not None:
            kinds = list(kinds)
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += kinds
        rows = self.db.execute(sql + " ORDER BY kind, media_id, frame, box_id", args).fetchall()
        keys = [EmbeddingKey(r[0], r[1], r[2], r[3]) for r in rows]
        if not rows:
            return keys, np.zeros((0, 0), np.float32)
        blob = b"".join(r[4] for r in rows)
        return keys, np.frombuffer(blob, np.float32).reshape(len(rows), -1).copy()

    def get(self, run_id: int, key: EmbeddingKey) -> np.ndarray | None:
        row = self.db.execute(
            "SELECT vector FROM embeddings WHERE run_id = ? AND kind = ? AND media_id = ? "
            "AND frame = ? AND box_id = ?", (run_id, *key)).fetchone()
        return None if row is None else np.frombuffer(row[0], np.float32).copy()

    def delete(self, run_id: int, keys: Iterable[EmbeddingKey]) -> None:
        with self.db.transaction() as c:
            c.executemany("DELETE FROM embeddings WHERE run_id = ? AND kind = ? AND media_id = ? "
                          "AND frame = ? AND box_id = ?", [(run_id, *k) for k in keys])
