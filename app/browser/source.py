"""The media browser's lazy data source over the store.

Holds the filtered id list; rows are read a page at a time when the view asks for
them and kept in a small cache, so 100,000 media cost one id query up front.
"""

from __future__ import annotations

from collections import OrderedDict

from app.store import browse
from widgets.media_browser import MediaRow

PAGE = 256
_CACHE_PAGES = 64


class StoreMediaSource:
    def __init__(self, project, kind: str = "all", value: str = ""):
        self.project = project
        self.filter = (kind, value)
        self.ids = browse.filtered_ids(project, kind, value)
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
        return page[self.ids[i]]

    def index_of(self, media_id: int) -> int:
        try:
            return self.ids.index(media_id)
        except ValueError:
            return -1

    def invalidate(self, media_ids) -> None:
        """Forget cached rows of these media (their box count or tags changed)."""
        wanted = set(media_ids)
        for page_no, page in list(self._pages.items()):
            if wanted & page.keys():
                del self._pages[page_no]


def _to_row(r: browse.BrowseRow) -> MediaRow:
    return MediaRow(id=r.id, name=r.name, kind=r.kind, path=r.path, box_count=r.box_count,
                    tags=r.tags)
