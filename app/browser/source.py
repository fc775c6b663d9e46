"""The media browser's lazy data source over the store.

Holds the filtered id list; rows are read a page at a time when the view asks for
them and kept in a small cache, so 100,000 media cost one id query up front.
Another feature may lay ``Marks`` over the list (review: TP/FP/FN per media): a
marked row carries its text in ``status`` (the browser draws it red with a "!"
badge and shows the text as a tooltip), and the list can be ordered by weight,
heaviest first, or cut down to marked rows. The list can also be ordered by labelling
status, by the tag classifier's suggestions (``ranking``: media id → (confidence,
"tag 0.92"); suggested media first, the most confident first, the text on the row), or
by the Label next queue (the same shape: media id → (higher first, "next #3 · 0.62")).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass, field

from app.store import browse
from widgets.media_browser import MediaRow

PAGE = 256
RANKED = ("suggestion", "next")    # orders that follow a ranking another feature gives
_CACHE_PAGES = 64


@dataclass
class Marks:
    status: dict[int, str] = field(default_factory=dict)    # media id → row text
    weight: dict[int, int] = field(default_factory=dict)    # media id → sort weight
    heaviest_first: bool = False
    marked_only: bool = False


class StoreMediaSource:
    def __init__(self, project, kind: str = "all", value: str = "", marks: Marks | None = None,
                 order: str = "added", ranking: dict[int, tuple[float, str]] | None = None):
        self.project = project
        self.filter = (kind, value)
        self.marks = marks
        self.order = order
        self.ranking = ranking or {}
        ids = browse.filtered_ids(project, kind, value, "status" if order == "status" else "added")
        if order in RANKED and self.ranking:   # stable: the rest keep their order
            ids = sorted(ids, key=lambda i: -self.ranking.get(i, (-1.0, ""))[0])
        if marks is not None and marks.marked_only:
            ids = [i for i in ids if marks.weight.get(i)]
        if marks is not None and marks.heaviest_first:  # stable: equal weights keep the order
            ids = sorted(ids, key=lambda i: -marks.weight.get(i, 0))
        self.ids = ids
        self._index = {media_id: i for i, media_id in enumerate(ids)}
        self._pages: OrderedDict[int, dict[int, MediaRow]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, i: int) -> MediaRow:
        page_no = i // PAGE
        page = self._pages.get(page_no)
        if page is None:
            ids = self.ids[page_no * PAGE:(page_no + 1) * PAGE]
            page = {mid: _to_row(r) for mid, r in browse.rows_for(self.project, ids).items()}
            self._pages[page_no] = page
            while len(self._pages) > _CACHE_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        row = page[self.ids[i]]
        status = self.marks.status.get(row.id) if self.marks is not None else None
        if status and not row.status:
            row = dataclasses.replace(row, status=status)
        if self.order == "suggestion" and row.id in self.ranking:
            row = dataclasses.replace(row, suggestion=self.ranking[row.id][1])
        elif self.order == "next" and row.id in self.ranking:
            row = dataclasses.replace(row, rank=self.ranking[row.id][1])
        return row

    def index_of(self, media_id: int) -> int:
        return self._index.get(media_id, -1)

    def invalidate(self, media_ids) -> None:
        """Forget cached rows of these media (their box count or tags changed)."""
        wanted = set(media_ids)
        for page_no, page in list(self._pages.items()):
            if wanted & page.keys():
                del self._pages[page_no]


def _to_row(r: browse.BrowseRow) -> MediaRow:
    return MediaRow(id=r.id, name=r.name, kind=r.kind, path=r.path, box_count=r.box_count,
                    tags=r.tags, label_status=r.label_status)
