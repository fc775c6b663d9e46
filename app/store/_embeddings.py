"""Stored embeddings: one float32 vector (BLOB) per run and item, where an item is an
image, a sampled video frame or a labelled box. ``stamp`` is the box's
``updated_at`` when it was embedded, so a moved box is embedded again and nothing
else is (incremental embedding)."""

from __future__ import annotations

from typing import Iterable, NamedTuple

import numpy as np


class EmbeddingKey(NamedTuple):
    kind: str          # "image" | "frame" | "box"
    media_id: int
    frame: int = 0
    box_id: int = 0    # 0 unless kind == "box"

    def label(self) -> str:
        if self.kind == "box":
            return f"box:{self.box_id}"
        return f"{self.media_id}" + (f"@{self.frame}" if self.kind == "frame" else "")


class EmbeddingsMixin:
    def embedding_stamps(self, run_id: int) -> dict[EmbeddingKey, str]:
        rows = self.conn.execute("SELECT kind, media_id, frame, box_id, stamp FROM embeddings "
                                 "WHERE run_id = ?", (run_id,))
        return {EmbeddingKey(r[0], r[1], r[2], r[3]): r[4] for r in rows}

    def embedding_count(self, run_id: int) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM embeddings WHERE run_id = ?",
                                 (run_id,)).fetchone()[0]

    def put_embeddings(self, run_id: int,
                       rows: Iterable[tuple[EmbeddingKey, str, np.ndarray]]) -> int:
        """Insert or replace (key, stamp, vector) rows in one transaction."""
        data = [(run_id, k.kind, k.media_id, k.frame, k.box_id, stamp,
                 np.ascontiguousarray(v, np.float32).tobytes()) for k, stamp, v in rows]
        with self.transaction() as c:
            c.executemany("INSERT OR REPLACE INTO embeddings (run_id, kind, media_id, frame, "
                          "box_id, stamp, vector) VALUES (?, ?, ?, ?, ?, ?, ?)", data)
        return len(data)

    def load_embeddings(self, run_id: int, kinds: Iterable[str] | None = None
                        ) -> tuple[list[EmbeddingKey], np.ndarray]:
        """Keys and an (N, D) float32 matrix, in a stable order (kind, media, frame, box)."""
        sql, args = "SELECT kind, media_id, frame, box_id, vector FROM embeddings WHERE run_id = ?", [run_id]
        if kinds is not None:
            kinds = list(kinds)
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += kinds
        rows = self.conn.execute(sql + " ORDER BY kind, media_id, frame, box_id", args).fetchall()
        keys = [EmbeddingKey(r[0], r[1], r[2], r[3]) for r in rows]
        if not rows:
            return keys, np.zeros((0, 0), np.float32)
        blob = b"".join(r[4] for r in rows)
        return keys, np.frombuffer(blob, np.float32).reshape(len(rows), -1).copy()

    def embedding(self, run_id: int, key: EmbeddingKey) -> np.ndarray | None:
        row = self.conn.execute(
            "SELECT vector FROM embeddings WHERE run_id = ? AND kind = ? AND media_id = ? "
            "AND frame = ? AND box_id = ?", (run_id, *key)).fetchone()
        return None if row is None else np.frombuffer(row[0], np.float32).copy()

    def delete_embeddings(self, run_id: int, keys: Iterable[EmbeddingKey]) -> None:
        with self.transaction() as c:
            c.executemany("DELETE FROM embeddings WHERE run_id = ? AND kind = ? AND media_id = ? "
                          "AND frame = ? AND box_id = ?", [(run_id, *k) for k in keys])

    def embeddable_boxes(self) -> list[tuple[int, int, int, tuple, str]]:
        """(box id, media id, frame, xyxy, updated_at) of every labelled box."""
        rows = self.conn.execute("SELECT id, media_id, frame, x1, y1, x2, y2, updated_at "
                                 "FROM boxes WHERE source != 'predicted' ORDER BY media_id, frame")
        return [(r[0], r[1], r[2], (r[3], r[4], r[5], r[6]), r[7]) for r in rows]
