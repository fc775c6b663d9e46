"""The media browser: which media are listed (filter, order, marks laid over by
review), which one is current, and moving through them (A/D, Home/End, U).

It asks for a media item to be opened with ``open_requested``; whoever opens it
(the window) calls ``set_current`` back. Other features change the list only
through ``set_marks`` / ``update_marks``, ``rows_changed``, ``set_suggestions``
(the tag classifier's, asked for with ``suggestions_wanted`` when the user orders
by suggestion confidence) and ``set_next_ranking`` (Label next's, asked for with
``next_wanted``). Video thumbnails show a real frame, decoded off the GUI
thread (app/browser/thumbnails.py).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.browser.source import Marks, StoreMediaSource
from app.browser.thumbnails import thumbnail
from app.store import browse
from widgets.actions import make_action
from widgets.media_browser import MediaBrowser


class BrowserController(QObject):
    open_requested = Signal(int)      # media id the user moved to
    filter_changed = Signal(str, str)
    suggestions_wanted = Signal()     # order by tag suggestions: someone should answer
    next_wanted = Signal()            # order "most useful to label next": the same
    message = Signal(str)

    def __init__(self, project, view: MediaBrowser, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.view = view
        self.current: int | None = None
        self.marks: Marks | None = None
        self.order = "added"
        self.ranking: dict[int, tuple[float, str]] = {}
        self.next_ranking: dict[int, tuple[float, str]] = {}
        self.source = StoreMediaSource(project)
        view.set_thumbnail_provider(thumbnail)
        view.set_source(self.source)
        view.current_changed.connect(self.open_requested)
        view.filter_changed.connect(self.set_filter)
        view.order_changed.connect(self.set_order)
        self.refresh_filter_options()

    # -- the list ------------------------------------------------------------------------
    @property
    def ids(self) -> list[int]:
        return self.source.ids

    def set_filter(self, kind: str, value: str = "") -> None:
        self._rebuild(kind, value)
        self.filter_changed.emit(kind, value)

    def set_order(self, order: str) -> None:
        """"added", "status" (needs work first), "suggestion" (the tag classifier's
        most confident suggestions first, once they arrive) or "next" (the Label next
        queue's order, once it arrives)."""
        self.order = order
        self.view.set_order(order, emit=False)
        if order == "suggestion":
            self.message.emit("asking the tag classifier for suggestions…")
            self.suggestions_wanted.emit()
        elif order == "next":
            self.next_wanted.emit()
        self._rebuild(*self.source.filter)

    def set_suggestions(self, ranking: dict | None, note: str = "") -> None:
        """media id → (confidence, "tag 0.92") for untagged media; None: none to be had."""
        self.ranking = dict(ranking or {})
        if note:
            self.message.emit(note)
        if self.order == "suggestion":
            self._rebuild(*self.source.filter)

    def set_next_ranking(self, ranking: dict | None) -> None:
        """media id → (higher first, "next #3 · 0.62"), from the Label next queue."""
        self.next_ranking = dict(ranking or {})
        if self.order == "next":
            self._rebuild(*self.source.filter)

    def set_marks(self, marks: Marks | None) -> None:
        """Lay marks over the list (None takes them off); keeps the filter."""
        if marks is None and self.marks is None:
            return
        self.marks = marks
        self._rebuild(*self.source.filter)

    def update_marks(self, media_ids, status: dict[int, str], weight: dict[int, int]) -> None:
        """New marks for a few media (their labels changed); the order stays as it is."""
        if self.marks is None:
            return
        for media_id in media_ids:
            for table, new in ((self.marks.status, status), (self.marks.weight, weight)):
                if media_id in new:
                    table[media_id] = new[media_id]
                else:
                    table.pop(media_id, None)
        self.rows_changed(media_ids)

    def _rebuild(self, kind: str, value: str) -> None:
        self.source = StoreMediaSource(self.project, kind, value, self.marks, self.order,
                                       self.next_ranking if self.order == "next" else self.ranking)
        self.view.set_source(self.source)
        if self.current is not None:
            self.view.set_current(self.current, emit=False)

    def rows_changed(self, media_ids) -> None:
        if media_ids:
            self.source.invalidate(media_ids)
            self.view.refresh_rows(list(media_ids))

    def refresh_filter_options(self) -> None:
        self.view.set_filter_options([c.name for c in self.project.classes.all()],
                                     [t.name for t in self.project.tags.all()])

    def refresh(self) -> None:
        """After an import: new media, classes and tags."""
        self._rebuild(*self.source.filter)
        self.refresh_filter_options()

    # -- moving --------------------------------------------------------------------------
    def set_current(self, media_id: int | None) -> None:
        self.current = media_id
        if media_id is not None:
            self.view.set_current(media_id, emit=False)

    def step(self, delta: int) -> None:
        ids = self.ids
        if not ids:
            return
        i = self.source.index_of(self.current) if self.current is not None else -1
        self.open_requested.emit(ids[max(0, min(len(ids) - 1, i + delta if i >= 0 else 0))])

    def first(self) -> None:
        if self.ids:
            self.open_requested.emit(self.ids[0])

    def last(self) -> None:
        if self.ids:
            self.open_requested.emit(self.ids[-1])

    def previous_id(self) -> int | None:
        i = self.source.index_of(self.current) if self.current is not None else -1
        return self.ids[i - 1] if i > 0 else None

    def next_unlabelled(self) -> None:
        target = browse.next_unlabelled(self.project, self.current or 0)
        if target is None:
            self.message.emit("every media item is labelled")
        else:
            self.open_requested.emit(target)

    def actions(self, parent) -> dict:
        return {
            "prev": make_action(parent, "&Previous media", lambda: self.step(-1), "A"),
            "next": make_action(parent, "&Next media", lambda: self.step(1), "D"),
            "first": make_action(parent, "&First media", self.first, "Home"),
            "last": make_action(parent, "&Last media", self.last, "End"),
            "unlabelled": make_action(parent, "Next &not labelled", self.next_unlabelled, "U"),
        }
