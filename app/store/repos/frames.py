"""Which frames of a video carry labels, and which belong to the dataset (sampling)."""

from __future__ import annotations

import json

from app.store.repos.base import Repository


class FrameRepository(Repository):
    def labelled(self, media_id: int) -> list[int]:
        """Frames of a video that have labels (manual or interpolated), sorted."""
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT frame FROM boxes WHERE media_id = ? AND source != 'predicted' "
            "ORDER BY frame", (media_id,))]

    def keyframes(self, media_id: int) -> list[int]:
        """Frames with a manual box, sorted: the keyframes the timeline marks."""
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT frame FROM boxes WHERE media_id = ? AND source = 'manual' "
            "ORDER BY frame", (media_id,))]

    # -- dataset sampling (see app.store.sampling) ------------------------------------
    def sampling(self, media_id: int) -> dict | None:
        row = self.db.execute("SELECT spec FROM video_sampling WHERE media_id = ?",
                              (media_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def all_sampling(self) -> dict[int, dict]:
        return {m: json.loads(s) for m, s in self.db.execute(
            "SELECT media_id, spec FROM video_sampling")}

    def set_sampling(self, media_id: int, spec: dict | None) -> None:
        """Store a sampling spec; None goes back to the default."""
        with self.db.transaction() as c:
            if spec is None:
                c.execute("DELETE FROM video_sampling WHERE media_id = ?", (media_id,))
            else:
                c.execute("INSERT INTO video_sampling (media_id, spec) VALUES (?, ?) "
                          "ON CONFLICT (media_id) DO UPDATE SET spec = excluded.spec",
                          (media_id, json.dumps(spec, sort_keys=True)))
