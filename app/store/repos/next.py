"""What to label next (``app.next``): uncertainty scores per detector run, feature
vectors per source, the user's decisions on the model's proposals, near-duplicate
groups. Scores and features are caches (a model's answers, recomputed when missing);
decisions are user edits, journaled (``app.store.journal``) so they undo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from app.store.repos.base import Repository

OUTCOMES = ("accepted", "edited", "deleted")


@dataclass(frozen=True)
class Score:
    media_id: int
    frame: int
    score: float
    entropy: float
    instability: float
    boxes: int


class NextRepository(Repository):
    # -- uncertainty scores, per detector run ----------------------------------------
    def put_scores(self, run_id: int, rows: Iterable[Score]) -> None:
        with self.db.transaction() as c:
            c.executemany(
                "INSERT OR REPLACE INTO next_scores (run_id, media_id, frame, score, entropy, "
                "instability, boxes) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run_id, r.media_id, r.frame, float(r.score), float(r.entropy),
                  float(r.instability), int(r.boxes)) for r in rows])

    def scores(self, run_id: int) -> dict[tuple[int, int], Score]:
        return {(r[0], r[1]): Score(*r) for r in self.db.execute(
            "SELECT media_id, frame, score, entropy, instability, boxes FROM next_scores "
            "WHERE run_id = ?", (run_id,))}

    def scored(self, run_id: int) -> set[tuple[int, int]]:
        return {(r[0], r[1]) for r in self.db.execute(
            "SELECT media_id, frame FROM next_scores WHERE run_id = ?", (run_id,))}

    def score_count(self, run_id: int) -> int:
        return self.db.execute("SELECT COUNT(*) FROM next_scores WHERE run_id = ?",
                               (run_id,)).fetchone()[0]

    # -- feature vectors, per source -------------------------------------------------
    def put_features(self, source: str, rows: Iterable[tuple[int, int, np.ndarray]]) -> None:
        with self.db.transaction() as c:
            c.executemany(
                "INSERT OR REPLACE INTO next_features (source, media_id, frame, vector) "
                "VALUES (?, ?, ?, ?)",
                [(source, m, f, np.ascontiguousarray(v, np.float32).tobytes()) for m, f, v in rows])

    def featured(self, source: str) -> set[tuple[int, int]]:
        return {(r[0], r[1]) for r in self.db.execute(
            "SELECT media_id, frame FROM next_features WHERE source = ?", (source,))}

    def features(self, source: str) -> tuple[list[tuple[int, int]], np.ndarray]:
        """(media id, frame) keys and an (N, D) float32 matrix, in key order."""
        rows = self.db.execute("SELECT media_id, frame, vector FROM next_features "
                               "WHERE source = ? ORDER BY media_id, frame", (source,)).fetchall()
        keys = [(r[0], r[1]) for r in rows]
        if not rows:
            return keys, np.zeros((0, 0), np.float32)
        return keys, np.frombuffer(b"".join(r[2] for r in rows), np.float32).reshape(
            len(rows), -1).copy()

    def drop_features(self, source: str) -> None:
        with self.db.transaction() as c:
            c.execute("DELETE FROM next_features WHERE source = ?", (source,))

    # -- decisions on proposals (journaled: call inside Document.edit) ----------------
    def decide(self, run_id: int, media_id: int, frame: int, prediction_id: int, outcome: str,
               box_id: int | None = None) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown proposal outcome {outcome!r}")
        with self.db.transaction() as c:
            c.execute("INSERT INTO proposal_decisions (run_id, media_id, frame, prediction_id, "
                      "outcome, box_id) VALUES (?, ?, ?, ?, ?, ?)",
                      (run_id, media_id, frame, prediction_id, outcome, box_id))

    def decided(self, run_id: int, media_id: int, frame: int = 0) -> set[int]:
        """Prediction ids of this picture the user has already decided on."""
        return {r[0] for r in self.db.execute(
            "SELECT prediction_id FROM proposal_decisions WHERE run_id = ? AND media_id = ? "
            "AND frame = ?", (run_id, media_id, frame))}

    def outcomes(self, run_id: int | None = None) -> dict[str, int]:
        """How many proposals were accepted unchanged, edited, deleted (of one run)."""
        sql, args = "SELECT outcome, COUNT(*) FROM proposal_decisions", ()
        if run_id is not None:
            sql, args = sql + " WHERE run_id = ?", (run_id,)
        out = dict.fromkeys(OUTCOMES, 0)
        out.update(self.db.execute(sql + " GROUP BY outcome", args).fetchall())
        return out

    # -- near-duplicate groups ---------------------------------------------------------
    def set_groups(self, groups: Iterable[Iterable[int]]) -> int:
        """Replace the near-duplicate groups (media ids of images); returns how many."""
        rows = [(m, g) for g, members in enumerate(groups, 1) for m in members]
        with self.db.transaction() as c:
            c.execute("DELETE FROM duplicate_groups")
            c.executemany("INSERT OR REPLACE INTO duplicate_groups (media_id, grp) VALUES (?, ?)",
                          rows)
        return len({g for _m, g in rows})

    def groups(self) -> dict[int, int]:
        """media id → near-duplicate group number."""
        return dict(self.db.execute("SELECT media_id, grp FROM duplicate_groups").fetchall())
