"""The media browser: a virtualised grid (or list) of images and videos with a filter.

Rows come from a lazy ``MediaSource`` the app supplies; only visible rows are read.
Intents: ``current_changed(media_id)``, ``filter_changed(kind, value)``,
``files_dropped(paths)``. The browser never opens a project or writes anything.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QComboBox, QHBoxLayout, QListView,
                               QStyle, QStyledItemDelegate, QToolButton, QVBoxLayout, QWidget)

from widgets.media_model import (STATUS_NAMES, THUMB, ListSource, MediaListModel, MediaRow,
                                 MediaRowRole, MediaSource, ThumbnailLoader)
from widgets.status import STATUS_COLORS

__all__ = ["MediaBrowser", "MediaRow", "MediaSource", "ListSource", "FileDropFilter",
           "install_file_drop"]

GRID_CELL = QSize(THUMB + 20, THUMB * 3 // 4 + 34)
LIST_ROW_H = 40
FILTERS = [("All", ("all", "")), ("Not labelled", ("unlabelled", "")),
           ("Labelled", ("labelled", "")), ("No objects", ("empty", "")),
           ("Needs review", ("review", "")), ("Untagged", ("untagged", ""))]
ORDERS = [("as added", "added"), ("status: needs work first", "status"),
          ("tag suggestion confidence", "suggestion"), ("most useful to label next", "next")]


def status_badge(row: MediaRow) -> tuple[str, QColor]:
    """The corner badge: box count when labelled, ∅ for no objects, – when not labelled."""
    name = STATUS_NAMES.get(row.label_status, "")
    color = QColor(STATUS_COLORS.get(name, "#5a5e66"))
    if row.label_status == "empty":
        return "∅", color
    if row.label_status == "review":
        return f"{row.box_count} ?", color
    if row.label_status == "unlabelled" and not row.box_count:
        return "–", QColor("#5a5e66")
    return str(row.box_count), QColor("#3cb44b") if row.box_count else QColor("#5a5e66")


class FileDropFilter(QObject):
    """Event filter that turns files/folders dropped on a widget into ``files_dropped``.

    Install it on any widget (the browser does on itself; the window can too)::

        drop = install_file_drop(window)
        drop.files_dropped.connect(app_import_paths)
    """

    files_dropped = Signal(list)

    def eventFilter(self, obj, event) -> bool:
        t = event.type()
        if t in (QEvent.DragEnter, QEvent.DragMove):
            if self._paths(event):
                event.acceptProposedAction()
                return True
        elif t == QEvent.Drop:
            paths = self._paths(event)
            if paths:
                event.acceptProposedAction()
                self.files_dropped.emit(paths)
                return True
        return False

    @staticmethod
    def _paths(event) -> list[str]:
        md = event.mimeData()
        if md is None or not md.hasUrls():
            return []
        return [u.toLocalFile() for u in md.urls() if u.isLocalFile()]


def install_file_drop(widget: QWidget, drop: FileDropFilter | None = None) -> FileDropFilter:
    drop = drop or FileDropFilter(widget)
    widget.setAcceptDrops(True)
    widget.installEventFilter(drop)
    return drop


class _Delegate(QStyledItemDelegate):
    def __init__(self, browser: "MediaBrowser") -> None:
        super().__init__(browser)
        self.browser = browser

    def sizeHint(self, option, index) -> QSize:
        return GRID_CELL if self.browser.view_mode() == "grid" else QSize(120, LIST_ROW_H)

    def paint(self, painter: QPainter, option, index) -> None:
        row: MediaRow | None = index.data(MediaRowRole)
        if row is None:
            return
        painter.save()
        r = option.rect
        selected = bool(option.state & QStyle.State_Selected)
        pal = option.palette
        if selected:
            painter.fillRect(r, pal.color(QPalette.Highlight))
        elif option.state & QStyle.State_MouseOver:
            hover = QColor(pal.color(QPalette.Highlight))
            hover.setAlpha(50)
            painter.fillRect(r, hover)
        grid = self.browser.view_mode() == "grid"
        thumb_rect = (QRect(r.x() + 10, r.y() + 6, THUMB, THUMB * 3 // 4) if grid
                      else QRect(r.x() + 4, r.y() + 4, (LIST_ROW_H - 8) * 4 // 3, LIST_ROW_H - 8))
        pix = self.browser._thumbs.get(row)
        if pix is None:
            painter.fillRect(thumb_rect, pal.color(QPalette.Mid))
        else:
            size = pix.size().scaled(thumb_rect.size(), Qt.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(thumb_rect.center())
            painter.drawPixmap(target, pix)
        fm = QFontMetrics(option.font)
        text_color = pal.color(QPalette.HighlightedText if selected else QPalette.Text)
        painter.setPen(QColor("#d9534f") if row.status else text_color)
        if grid:
            text_rect = QRect(r.x() + 4, thumb_rect.bottom() + 4, r.width() - 8, fm.height())
            painter.drawText(text_rect, Qt.AlignHCenter | Qt.AlignVCenter,
                             fm.elidedText(row.name, Qt.ElideMiddle, text_rect.width()))
        else:
            text_rect = QRect(thumb_rect.right() + 8, r.y(), r.width() - thumb_rect.width() - 70,
                              r.height())
            painter.drawText(text_rect, Qt.AlignLeft | Qt.AlignVCenter,
                             fm.elidedText(row.name, Qt.ElideMiddle, text_rect.width()))
        self._badges(painter, row, thumb_rect if grid else r, fm, grid)
        painter.restore()

    def _badges(self, painter, row: MediaRow, area: QRect, fm: QFontMetrics, grid: bool) -> None:
        text, color = status_badge(row)
        w = fm.horizontalAdvance(text) + 10
        badge = QRect(area.right() - w - 4, area.top() + 4 if grid else area.center().y() - 9, w, 18)
        painter.setPen(Qt.NoPen)
        painter.setBrush(color)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.drawRoundedRect(badge, 9, 9)
        painter.setPen(QPen(QColor("#ffffff")))
        painter.drawText(badge, Qt.AlignCenter, text)
        if grid and row.label_status:   # a status bar under the picture, readable at a glance
            painter.fillRect(QRect(area.left(), area.bottom() - 2, area.width(), 3), color)
        if grid:
            self._chips(painter, row, area, fm)
        if row.kind == "video" and grid:
            tag = QRect(area.left() + 4, area.top() + 4, fm.horizontalAdvance("video") + 10, 18)
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor(0, 0, 0, 160))
            painter.drawRoundedRect(tag, 4, 4)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(tag, Qt.AlignCenter, "video")
        if row.status:
            warn = QRect(area.left() + 4, area.bottom() - 22, 18, 18)
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor("#d9534f"))
            painter.drawEllipse(warn)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(warn, Qt.AlignCenter, "!")


    def _chips(self, painter, row: MediaRow, area: QRect, fm: QFontMetrics) -> None:
        """Tag chips along the bottom of the picture (a suggested tag dashed, with a
        question mark), as many as fit, then "+N" for the rest."""
        chips = ([(row.rank, False)] if row.rank else []) + [(t, False) for t in row.tags] + (
            [(row.suggestion + "?", True)] if row.suggestion else [])
        x = area.left() + (26 if row.status else 3)   # room for the review "!" badge
        y, right = area.bottom() - 19, area.right() - 3
        for n, (text, suggested) in enumerate(chips):
            label = fm.elidedText(text, Qt.ElideRight, 70)
            more = f"+{len(chips) - n}"
            w = fm.horizontalAdvance(label) + 8
            room = 0 if n == len(chips) - 1 else fm.horizontalAdvance(more) + 11
            if x + w + room > right:     # keep room for "+N" unless this is the last chip
                _chip(painter, QRect(x, y, fm.horizontalAdvance(more) + 8, 15), more, False)
                return
            _chip(painter, QRect(x, y, w, 15), label, suggested)
            x += w + 3


def _chip(painter: QPainter, rect: QRect, text: str, suggested: bool) -> None:
    painter.setPen(QPen(QColor("#d9dbe0"), 1, Qt.DashLine if suggested else Qt.SolidLine))
    painter.setBrush(QColor(20, 22, 26, 200))
    painter.drawRoundedRect(rect, 4, 4)
    font = painter.font()
    italic = QFont(font)
    italic.setItalic(suggested)
    painter.setFont(italic)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(rect, Qt.AlignCenter, text)
    painter.setFont(font)


class _MediaListView(QListView):
    def keyboardSearch(self, search: str) -> None:
        # Qt's type-ahead search walks the model row by row (model.match) and would read
        # up to every row of a 100k source; the app offers a real search instead.
        return


class MediaBrowser(QWidget):
    current_changed = Signal(int)  # media id
    # kind ("all"|"unlabelled"|"labelled"|"empty"|"review"|"untagged"|"class"|"tag"), value
    filter_changed = Signal(str, str)
    order_changed = Signal(str)    # "added" | "status" | "suggestion" | "next"
    files_dropped = Signal(list)  # local paths of dropped files and folders

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._mode = "grid"
        self._quiet = False          # set_current(emit=False) in progress
        self._model = MediaListModel(self)
        self._thumbs = ThumbnailLoader(self)
        self._thumbs.ready.connect(self._thumb_ready)

        self.filter_combo = QComboBox(self)
        self.filter_combo.setMinimumContentsLength(8)
        self.filter_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.filter_combo.currentIndexChanged.connect(self._filter_picked)
        self.order_combo = QComboBox(self)
        self.order_combo.setToolTip("Order of the media")
        self.order_combo.setMinimumContentsLength(12)   # a column of thumbnails wide
        self.order_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        for text, key in ORDERS:
            self.order_combo.addItem(f"Order: {text}", key)
        self.order_combo.currentIndexChanged.connect(
            lambda i: self.order_changed.emit(self.order_combo.itemData(i)))
        self.grid_button = QToolButton(self, text="▦", checkable=True, checked=True,
                                       toolTip="Grid of thumbnails")
        self.list_button = QToolButton(self, text="☰", checkable=True, toolTip="List")
        modes = QButtonGroup(self)
        modes.setExclusive(True)
        for b in (self.grid_button, self.list_button):
            modes.addButton(b)
        self.grid_button.clicked.connect(lambda: self.set_view_mode("grid"))
        self.list_button.clicked.connect(lambda: self.set_view_mode("list"))

        self.view = _MediaListView(self)
        self.view.setModel(self._model)
        self.view.setItemDelegate(_Delegate(self))
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SingleSelection)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.view.setMouseTracking(True)
        self.view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.view.selectionModel().currentChanged.connect(self._current)
        self.view.verticalScrollBar().valueChanged.connect(self._thumbs.cancel_pending)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter_combo, 1)
        top.addWidget(self.grid_button)
        top.addWidget(self.list_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.order_combo)
        lay.addWidget(self.view, 1)

        self._drop = install_file_drop(self)
        install_file_drop(self.view.viewport(), self._drop)
        self._drop.files_dropped.connect(self.files_dropped)
        self.set_filter_options([], [])
        self.set_view_mode("grid")

    # -- source and rows ------------------------------------------------------------------
    def set_source(self, source: MediaSource | None) -> None:
        current = self.current_id()
        self._model.set_source(source)
        self._thumbs.cancel_pending()
        if current is not None:
            self.set_current(current, emit=False)

    def source(self) -> MediaSource | None:
        return self._model.source()

    def count(self) -> int:
        return self._model.rowCount()

    def refresh_rows(self, ids) -> None:
        self._model.refresh_ids(ids)

    def set_thumbnail_provider(self, provider) -> None:
        """``provider(row) -> QImage``, called in a worker thread (None: the default)."""
        self._thumbs.set_provider(provider)
        self.view.viewport().update()

    def _thumb_ready(self, media_id: int) -> None:
        self.view.viewport().update()

    # -- current --------------------------------------------------------------------------
    def current_id(self) -> int | None:
        row = self.view.currentIndex().data(MediaRowRole)
        return None if row is None else row.id

    def set_current(self, media_id: int, emit: bool = True) -> bool:
        i = self._model.row_of(media_id)
        if i is None:
            return False
        ix = self._model.index(i)
        # Not by blocking the selection model's signals: the view repaints the cells
        # whose selection changed from them, and without them the old cell stayed
        # highlighted (several at once after Home, or a click then A/D).
        self._quiet = not emit
        try:
            self.view.setCurrentIndex(ix)
        finally:
            self._quiet = False
        self.view.scrollTo(ix)
        return True

    def _current(self, current, _previous) -> None:
        row = current.data(MediaRowRole)
        if row is not None and not self._quiet:
            self.current_changed.emit(row.id)

    # -- view mode ------------------------------------------------------------------------
    def view_mode(self) -> str:
        return self._mode

    def set_view_mode(self, mode: str) -> None:
        if mode not in ("grid", "list"):
            raise ValueError(mode)
        self._mode = mode
        v = self.view
        # ListMode + wrapping is the virtualised grid: with uniform sizes it never measures
        # every item (IconMode keeps a per-item layout, which 100k rows would feel).
        v.setViewMode(QListView.ListMode)
        v.setFlow(QListView.LeftToRight if mode == "grid" else QListView.TopToBottom)
        v.setWrapping(mode == "grid")
        v.setResizeMode(QListView.Adjust)
        v.setGridSize(GRID_CELL if mode == "grid" else QSize())
        v.setSpacing(0)
        # rows span the viewport in list mode; a horizontal bar would only hide the badges
        v.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff if mode == "list"
                                       else Qt.ScrollBarAsNeeded)
        self.grid_button.setChecked(mode == "grid")
        self.list_button.setChecked(mode == "list")
        v.doItemsLayout()

    # -- filter ---------------------------------------------------------------------------
    def set_filter_options(self, classes: list[str], tags: list[str]) -> None:
        keep = self.current_filter()
        combo = self.filter_combo
        combo.blockSignals(True)
        combo.clear()
        for text, data in FILTERS:
            combo.addItem(text, data)
        for c in classes:
            combo.addItem(f"Class: {c}", ("class", c))
        for t in tags:
            combo.addItem(f"Tag: {t}", ("tag", t))
        found = next((i for i in range(combo.count()) if combo.itemData(i) == keep), 0)
        combo.setCurrentIndex(found)
        combo.blockSignals(False)
        if found == 0 and keep != ("all", ""):
            self.filter_changed.emit("all", "")  # the chosen class/tag went away

    def current_filter(self) -> tuple[str, str]:
        data = self.filter_combo.currentData()
        return tuple(data) if data else ("all", "")

    def set_filter(self, kind: str, value: str = "") -> bool:
        for i in range(self.filter_combo.count()):
            if tuple(self.filter_combo.itemData(i)) == (kind, value):
                self.filter_combo.setCurrentIndex(i)
                return True
        return False

    def current_order(self) -> str:
        return self.order_combo.currentData()

    def set_order(self, order: str, emit: bool = True) -> None:
        i = self.order_combo.findData(order)
        if i >= 0:
            self.order_combo.blockSignals(not emit)
            self.order_combo.setCurrentIndex(i)
            self.order_combo.blockSignals(False)

    def _filter_picked(self, i: int) -> None:
        data = self.filter_combo.itemData(i)
        if data:
            self.filter_changed.emit(*data)
