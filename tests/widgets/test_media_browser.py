"""Media browser: lazy 100k rows, filters, current item, thumbnails, drops."""
import time

import pytest
from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage, QRegion
from PySide6.QtWidgets import QApplication

from tests.widgets.conftest import click
from widgets.media_browser import ListSource, MediaBrowser, MediaRow, install_file_drop
from widgets.media_model import default_thumbnail


class FakeSource:
    def __init__(self, n):
        self.n, self.asked = n, set()

    def __len__(self):
        return self.n

    def row(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.asked.add(i)
        return MediaRow(i + 1, f"img_{i:06d}.jpg", "image", f"/nowhere/{i}.jpg", i % 5)

    def index_of(self, media_id):
        return media_id - 1 if 1 <= media_id <= self.n else None


def solid(row):
    img = QImage(64, 48, QImage.Format_RGB32)
    img.fill(QColor("#40a040"))
    return img


@pytest.fixture
def browser(qtbot):
    b = MediaBrowser()
    qtbot.addWidget(b)
    b.resize(420, 700)
    b.set_thumbnail_provider(solid)
    b.show()
    qtbot.waitExposed(b)
    yield b
    b._thumbs.wait()


@pytest.mark.parametrize("mode", ["grid", "list"])
def test_100k_rows_load_lazily_and_scroll_to_end(browser, mode):
    browser.set_view_mode(mode)
    src = FakeSource(100_000)
    t = time.perf_counter()
    browser.set_source(src)
    browser.view.viewport().repaint()
    browser.view.scrollToBottom()
    browser.view.viewport().repaint()
    assert time.perf_counter() - t < 2.0
    assert browser.count() == 100_000
    assert 0 < len(src.asked) < 300  # only the painted rows
    assert max(src.asked) > 99_000  # the end was really shown


def test_current_changed_on_click_and_set_current(browser, qtbot):
    browser.set_source(ListSource([MediaRow(i, f"m{i}", "image", f"/x/{i}.jpg", 0)
                                   for i in (10, 20, 30)]))
    rect = browser.view.visualRect(browser.view.model().index(1))
    with qtbot.waitSignal(browser.current_changed) as sig:
        click(browser.view.viewport(), QPointF(rect.center()))
    assert sig.args == [20]
    with qtbot.waitSignal(browser.current_changed) as sig:
        assert browser.set_current(30)
    assert sig.args == [30] and browser.current_id() == 30
    assert not browser.set_current(999)


def test_set_source_keeps_current_without_emitting(browser, qtbot):
    rows = [MediaRow(i, f"m{i}", "image", f"/x/{i}.jpg", 0) for i in range(1, 6)]
    browser.set_source(ListSource(rows))
    browser.set_current(4)
    with qtbot.assertNotEmitted(browser.current_changed):
        browser.set_source(ListSource(rows[2:]))
    assert browser.current_id() == 4


def test_filter_options_and_signal(browser, qtbot):
    browser.set_filter_options(["cat", "dog"], ["night"])
    texts = [browser.filter_combo.itemText(i) for i in range(browser.filter_combo.count())]
    assert texts == ["All", "Not labelled", "Labelled", "No objects", "Needs review", "Untagged",
                     "Class: cat", "Class: dog", "Tag: night"]
    with qtbot.waitSignal(browser.filter_changed) as sig:
        browser.filter_combo.setCurrentIndex(5)
    assert sig.args == ["untagged", ""]
    with qtbot.waitSignal(browser.filter_changed) as sig:
        browser.filter_combo.setCurrentIndex(7)
    assert sig.args == ["class", "dog"]
    with qtbot.waitSignal(browser.filter_changed) as sig:
        browser.filter_combo.setCurrentIndex(8)
    assert sig.args == ["tag", "night"]
    with qtbot.assertNotEmitted(browser.filter_changed):  # same options: choice kept, no signal
        browser.set_filter_options(["cat", "dog"], ["night"])
    assert browser.current_filter() == ("tag", "night")
    with qtbot.waitSignal(browser.filter_changed) as sig:  # the tag went away
        browser.set_filter_options(["cat"], [])
    assert sig.args == ["all", ""]


def test_refresh_rows_rereads_source(browser, qtbot):
    rows = [MediaRow(1, "a", "image", "/x/a.jpg", 0)]
    src = ListSource(rows)
    browser.set_source(src)
    assert browser.view.model().media_row(0).box_count == 0
    src._rows[0] = MediaRow(1, "a", "image", "/x/a.jpg", 5)
    assert browser.view.model().media_row(0).box_count == 0  # cached
    with qtbot.waitSignal(browser.view.model().dataChanged):
        browser.refresh_rows([1])
    assert browser.view.model().media_row(0).box_count == 5


def test_thumbnails_made_off_thread_and_cached(browser, qtbot):
    calls = []

    def provider(row):
        calls.append(row.id)
        return solid(row)

    browser.set_thumbnail_provider(provider)
    browser.set_source(ListSource([MediaRow(i, f"m{i}", "image", "", 0) for i in range(1, 4)]))
    browser.view.viewport().repaint()
    qtbot.waitUntil(lambda: len(browser._thumbs._cache) == 3, timeout=3000)
    browser.view.viewport().repaint()
    assert sorted(calls) == [1, 2, 3]  # once each, then from the cache


def test_default_thumbnail_scales_on_read(tmp_path):
    path = str(tmp_path / "big.png")
    big = QImage(1024, 512, QImage.Format_RGB32)
    big.fill(QColor("red"))
    assert big.save(path)
    thumb = default_thumbnail(MediaRow(1, "big", "image", path, 0))
    assert (thumb.width(), thumb.height()) == (128, 64)
    video = default_thumbnail(MediaRow(2, "v", "video", "/x.mp4", 0))
    assert not video.isNull() and video.width() == 128
    broken = default_thumbnail(MediaRow(3, "b", "image", str(tmp_path / "missing.jpg"), 0))
    assert not broken.isNull()


def _drop(widget, paths):
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(p) for p in paths])
    enter = QDragEnterEvent(QPoint(5, 5), Qt.CopyAction, md, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(QPointF(5, 5), Qt.CopyAction, md, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, drop)
    return enter.isAccepted()


def test_files_dropped_on_browser_and_on_any_widget(browser, qtbot, tmp_path):
    with qtbot.waitSignal(browser.files_dropped) as sig:
        assert _drop(browser.view.viewport(), [str(tmp_path / "a.jpg"), str(tmp_path)])
    assert sig.args == [[str(tmp_path / "a.jpg"), str(tmp_path)]]
    from PySide6.QtWidgets import QWidget
    other = QWidget()
    qtbot.addWidget(other)
    drop = install_file_drop(other)
    with qtbot.waitSignal(drop.files_dropped) as sig:
        _drop(other, ["/data/x.mp4"])
    assert sig.args == [["/data/x.mp4"]]


def test_view_mode_switch(browser):
    browser.set_view_mode("list")
    assert browser.view_mode() == "list" and not browser.view.isWrapping()
    browser.set_view_mode("grid")
    assert browser.view.isWrapping() and browser.grid_button.isChecked()
    with pytest.raises(ValueError):
        browser.set_view_mode("tiles")


def test_typing_does_not_scan_the_source(browser, qtbot):
    src = FakeSource(100_000)
    browser.set_source(src)
    browser.view.viewport().repaint()
    seen = len(src.asked)
    browser.view.setFocus()
    qtbot.keyClicks(browser.view, "zz")
    assert len(src.asked) - seen < 50


class _Painted(QObject):
    """Collects the regions the view repaints."""

    def __init__(self):
        super().__init__()
        self.region = QRegion()

    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Paint:
            self.region = self.region.united(ev.region())
        return False


def test_moving_the_current_item_repaints_the_one_it_left(browser, qtbot):
    """After a click, then a move made by the app (A/D, Home), only one cell is highlighted:
    the cell left behind is repainted without its highlight."""
    browser.set_source(FakeSource(12))
    cell = lambda i: browser.view.visualRect(browser._model.index(i))   # noqa: E731
    click(browser.view.viewport(), cell(2).center())
    qtbot.wait(20)
    for target in (7, 1):                          # D a few times, then Home
        painted = _Painted()
        browser.view.viewport().installEventFilter(painted)
        before = browser._model.row_of(browser.current_id())
        browser.set_current(target, emit=False)
        qtbot.waitUntil(lambda: painted.region.contains(cell(before).center()), timeout=2000)
        browser.view.viewport().removeEventFilter(painted)
        assert browser.current_id() == target
        assert browser.view.selectionModel().selectedIndexes() == [browser._model.index(target - 1)]


def test_thumbnails_show_status_tag_chips_and_a_suggested_tag(browser, qtbot):
    rows = [MediaRow(1, "a.jpg", "image", "/x/a.jpg", 2, ("night", "crowded"), label_status="labelled"),
            MediaRow(2, "b.jpg", "image", "/x/b.jpg", 0, label_status="empty"),
            MediaRow(3, "c.jpg", "image", "/x/c.jpg", 0, label_status="unlabelled",
                     suggestion="night 0.93"),
            MediaRow(4, "d.jpg", "image", "/x/d.jpg", 0, label_status="unlabelled")]
    browser.set_source(ListSource(rows))
    browser.view.viewport().grab()
    browser._thumbs.wait()
    qtbot.waitUntil(lambda: all(browser._thumbs._cache.get(r.id) for r in rows), timeout=5000)
    img = browser.view.viewport().grab().toImage()

    def at(i, dx, dy):
        r = browser.view.visualRect(browser._model.index(i))
        return img.pixelColor(r.x() + 10 + dx, r.y() + 6 + dy)
    green = QColor("#40a040")
    chip = lambda i: at(i, 3 + 2, 95 - 19 + 3)       # noqa: E731  inside a chip's corner
    assert chip(0) != green and chip(0).lightness() < 60          # tag chips on a
    assert chip(2) != green and chip(2).lightness() < 60          # the suggestion, dashed
    assert chip(1) == green and chip(3) == green                  # no tags, no suggestion
    assert at(1, 64, 95) == QColor("#4e9ad6")                     # no objects: blue bar
    assert at(3, 64, 95) == QColor("#5a5e66")                     # not labelled: grey bar
    assert browser._model.data(browser._model.index(2), Qt.ToolTipRole).endswith(
        "not labelled\nsuggested tag: night 0.93")
