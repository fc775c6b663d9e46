"""Data side of the media browser: rows, the lazy source protocol, the list model, thumbnails.

The model asks its source only for the rows the view paints (plus a small LRU of them):
100,000 media open instantly. Thumbnails are decoded in a QThreadPool with QImageReader
scaled on read, so only a small image is ever decoded, and kept in an LRU of QPixmaps.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

from PySide6.QtCore import (QAbstractListModel, QModelIndex, QObject, QRunnable, QSize, Qt,
                            QThreadPool, Signal)
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

from widgets.imaging import ImageLoadError, load_image

THUMB = 128
STATUS_NAMES = {"unlabelled": "not labelled", "labelled": "labelled", "empty": "no objects",
                "review": "needs review"}


@dataclass(frozen=True)
class MediaRow:
    id: int
    name: str
    kind: str  # "image" | "video"
    path: str
    box_count: int
    tags: tuple[str, ...] = ()
    status: str = ""  # empty when fine; else why the file cannot be used ("corrupt", ...)
    label_status: str = ""  # "unlabelled" | "labelled" | "empty" (no objects) | "review"
    suggestion: str = ""    # a suggested tag with its confidence ("night 0.92"), if any
    rank: str = ""          # its place in the Label next queue ("next #3 · 0.62"), if any


@runtime_checkable
class MediaSource(Protocol):
    """What the app hands to the browser. ``row(i)`` is called lazily, for visible rows only.

    A source may also offer ``index_of(media_id) -> int | None``; ``set_current`` uses it
    (without it, it scans the rows, which is slow for very large sources).
    """

    def __len__(self) -> int: ...

    def row(self, i: int) -> MediaRow: ...


class ListSource:
    """A MediaSource over an in-memory list (tests, small projects)."""

    def __init__(self, rows: list[MediaRow]) -> None:
        self._rows = list(rows)
        self._pos = {r.id: i for i, r in enumerate(self._rows)}

    def __len__(self) -> int:
        return len(self._rows)

    def row(self, i: int) -> MediaRow:
        return self._rows[i]

    def index_of(self, media_id: int) -> int | None:
        return self._pos.get(media_id)


MediaRowRole = Qt.UserRole + 1


class MediaListModel(QAbstractListModel):
    def __init__(self, parent=None, cache_rows: int = 4096) -> None:
        super().__init__(parent)
        self._source: MediaSource | None = None
        self._n = 0
        self._cache: OrderedDict[int, MediaRow] = OrderedDict()
        self._cache_rows = cache_rows

    def set_source(self, source: MediaSource | None) -> None:
        self.beginResetModel()
        self._source = source
        self._n = 0 if source is None else len(source)
        self._cache.clear()
        self.endResetModel()

    def source(self) -> MediaSource | None:
        return self._source

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self._n

    def media_row(self, i: int) -> MediaRow | None:
        if self._source is None or not 0 <= i < self._n:
            return None
        row = self._cache.get(i)
        if row is None:
            row = self._source.row(i)
            self._cache[i] = row
            if len(self._cache) > self._cache_rows:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(i)
        return row

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid():
            return None
        if role == MediaRowRole:
            return self.media_row(index.row())
        if role == Qt.DisplayRole:
            row = self.media_row(index.row())
            return None if row is None else row.name
        if role == Qt.ToolTipRole:
            row = self.media_row(index.row())
            if row is None:
                return None
            tip = f"{row.name}\n{row.path}\n{row.box_count} boxes"
            if row.label_status:
                tip += f"\n{STATUS_NAMES.get(row.label_status, row.label_status)}"
            if row.tags:
                tip += "\ntags: " + ", ".join(row.tags)
            if row.suggestion:
                tip += f"\nsuggested tag: {row.suggestion}"
            if row.rank:
                tip += f"\nlabel next: {row.rank}"
            return tip + (f"\n⚠ {row.status}" if row.status else "")
        return None

    def row_of(self, media_id: int) -> int | None:
        if self._source is None:
            return None
        finder = getattr(self._source, "index_of", None)
        if finder is not None:
            return finder(media_id)
        for i, row in self._cache.items():
            if row.id == media_id:
                return i
        for i in range(self._n):
            if self.media_row(i).id == media_id:
                return i
        return None

    def refresh_ids(self, ids) -> None:
        """Forget cached rows of ``ids`` and repaint them (e.g. their box counts changed)."""
        ids = set(ids)
        stale = [i for i, row in self._cache.items() if row.id in ids]
        for i in stale:
            del self._cache[i]
            ix = self.index(i)
            self.dataChanged.emit(ix, ix)


# -- thumbnails -----------------------------------------------------------------------------
def film_strip_icon(size: int = THUMB) -> QImage:
    img = QImage(size, size * 3 // 4, QImage.Format_ARGB32_Premultiplied)
    img.fill(QColor("#30333a"))
    p = QPainter(img)
    p.setRenderHint(QPainter.Antialiasing)
    w, h = img.width(), img.height()
    p.fillRect(0, 0, w, h // 6, QColor("#15161a"))
    p.fillRect(0, h - h // 6, w, h // 6, QColor("#15161a"))
    hole = max(3, w // 16)
    for x in range(hole // 2, w, hole * 2):
        p.fillRect(x, h // 12 - hole // 2, hole, hole, QColor("#8a8d93"))
        p.fillRect(x, h - h // 12 - hole // 2, hole, hole, QColor("#8a8d93"))
    p.setBrush(QColor("#d9dbe0"))
    p.setPen(Qt.NoPen)
    cx, cy, r = w / 2, h / 2, h / 5
    from PySide6.QtCore import QPointF
    p.drawPolygon([QPointF(cx - r * 0.6, cy - r), QPointF(cx - r * 0.6, cy + r), QPointF(cx + r, cy)])
    p.end()
    return img


def broken_icon(size: int = THUMB) -> QImage:
    img = QImage(size, size * 3 // 4, QImage.Format_ARGB32_Premultiplied)
    img.fill(QColor("#3a2a2c"))
    p = QPainter(img)
    p.setPen(QColor("#e0787a"))
    p.drawText(img.rect(), Qt.AlignCenter, "cannot read")
    p.end()
    return img


_ICONS: dict[str, QImage] = {}


def prepare_icons() -> None:
    """Paint the fixed icons once, on the GUI thread: thumbnail workers only copy them
    (painting them in workers raced with the GUI thread's painting and crashed)."""
    if not _ICONS:
        _ICONS["video"] = film_strip_icon()
        _ICONS["broken"] = broken_icon()


def default_thumbnail(row: MediaRow, size: int = THUMB) -> QImage:
    """QImageReader decoding straight to a small image; film strip for videos."""
    if row.kind == "video":
        return _ICONS["video"].copy() if size == THUMB and _ICONS else film_strip_icon(size)
    try:
        return load_image(row.path, max_side=size)
    except ImageLoadError:
        return _ICONS["broken"].copy() if size == THUMB and _ICONS else broken_icon(size)


class _Done(QObject):
    finished = Signal(int, int, QImage)  # media id, generation, image


class _ThumbJob(QRunnable):
    def __init__(self, loader: "ThumbnailLoader", row: MediaRow, generation: int) -> None:
        super().__init__()
        self.loader, self.row, self.generation = loader, row, generation

    def run(self) -> None:
        if self.generation != self.loader.generation:  # scrolled away before we started
            self.loader._done.finished.emit(self.row.id, -1, QImage())
            return
        try:
            img = self.loader.provider(self.row)
        except Exception:  # a bad file must never take the browser down
            img = QImage()
        if img is None or img.isNull():
            img = _ICONS["broken"].copy()
        self.loader._done.finished.emit(self.row.id, self.generation, img)


class ThumbnailLoader(QObject):
    """Lazily makes thumbnails off the GUI thread; ``ready(media_id)`` when one arrives."""

    ready = Signal(int)

    def __init__(self, parent=None, capacity: int = 2000, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        prepare_icons()   # on the GUI thread, before any worker needs them
        self.provider: Callable[[MediaRow], QImage] = default_thumbnail
        self.generation = 0
        self.capacity = capacity
        self._pool = pool or QThreadPool.globalInstance()
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._pending: dict[int, int] = {}
        self._done = _Done()
        self._done.finished.connect(self._finished, Qt.QueuedConnection)

    def set_provider(self, provider: Callable[[MediaRow], QImage] | None) -> None:
        self.provider = provider or default_thumbnail
        self.clear()

    def clear(self) -> None:
        self._cache.clear()
        self._pending.clear()
        self.generation += 1

    def cancel_pending(self) -> None:
        """Jobs queued for rows no longer visible are skipped; visible ones ask again."""
        self.generation += 1
        self._pending.clear()

    def forget(self, media_id: int) -> None:
        self._cache.pop(media_id, None)

    def get(self, row: MediaRow) -> QPixmap | None:
        pix = self._cache.get(row.id)
        if pix is not None:
            self._cache.move_to_end(row.id)
            return pix
        if self._pending.get(row.id) != self.generation:
            self._pending[row.id] = self.generation
            self._pool.start(_ThumbJob(self, row, self.generation))
        return None

    def _finished(self, media_id: int, generation: int, image: QImage) -> None:
        if generation < 0 or generation != self.generation:
            if self._pending.get(media_id) == generation:
                del self._pending[media_id]
            return
        self._pending.pop(media_id, None)
        self._cache[media_id] = QPixmap.fromImage(image)
        if len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        self.ready.emit(media_id)

    def wait(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)
