"""The media browser's source with review counts: TP/FP/FN per media item.

Rows with mistakes carry them in ``status`` (the browser draws those rows in red
with a "!" badge and shows the status in the tooltip); the id list can be ordered
by mistakes, most first, or cut down to media with mistakes.
"""

from __future__ import annotations

import dataclasses

from app.browser.source import StoreMediaSource


class ReviewSource(StoreMediaSource):
    def __init__(self, project, kind: str = "all", value: str = "",
                 counts: dict[int, tuple[int, int, int]] | None = None,
                 most_first: bool = False, mistakes_only: bool = False):
        super().__init__(project, kind, value)
        self.counts = dict(counts or {})
        if mistakes_only:
            self.ids = [i for i in self.ids if self.mistakes(i)]
        if most_first:  # stable: equal counts keep the browser's order
            self.ids = sorted(self.ids, key=lambda i: -self.mistakes(i))

    def mistakes(self, media_id: int) -> int:
        _tp, fp, fn = self.counts.get(media_id, (0, 0, 0))
        return fp + fn

    def row(self, i: int):
        row = super().row(i)
        counts = self.counts.get(row.id)
        if counts and (counts[1] or counts[2]) and not row.status:
            tp, fp, fn = counts
            row = dataclasses.replace(row, status=f"review: {tp} TP · {fp} FP · {fn} missed")
        return row
