"""The media browser tells the truth about each picture: its labelling status on the
thumbnail, filters and an order by status, untagged media, tag chips, an order by the
tag classifier's confidence, and a real frame as a video's thumbnail."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from app.browser.thumbnails import thumbnail
from app.shell.window import MainWindow
from app.store.models import EmbeddingKey
from app.store.project import Project
from tests.video import clips
from widgets.media_model import MediaRow, film_strip_icon


@pytest.fixture
def window(qtbot, tmp_path):
    p = Project.create(tmp_path / "p")
    folder = tmp_path / "p" / "imgs"
    folder.mkdir()
    for i in range(6):
        Image.fromarray(np.full((48, 64, 3), 40 * i, np.uint8)).save(folder / f"im{i}.png")
    p.media.import_files([folder])
    cat = p.classes.add("cat")
    p.boxes.add_one(1, cat, 1, 1, 20, 20)
    p.boxes.add_one(2, cat, 1, 1, 20, 20)
    p.status.set_mark(3, 0, "empty")
    p.status.set_mark(4, 0, "review")
    night = p.tags.add("night")
    p.tags.set(1, night, True)
    p.tags.set(3, night, True)
    w = MainWindow(p)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.restore_last_media()
    yield w
    w.close()
    p.close()


def names(w) -> list[str]:
    return [w.source.row(i).name for i in range(len(w.source))]


def pick(combo, text: str) -> None:
    combo.setCurrentIndex(next(i for i in range(combo.count()) if combo.itemText(i) == text))


def test_filters_order_and_thumbnails_by_status(window, qtbot):
    w = window
    rows = {w.source.row(i).name: w.source.row(i) for i in range(len(w.source))}
    assert {n: r.label_status for n, r in rows.items()} == {
        "im0.png": "labelled", "im1.png": "labelled", "im2.png": "empty", "im3.png": "review",
        "im4.png": "unlabelled", "im5.png": "unlabelled"}
    for text, expected in [("Not labelled", ["im4.png", "im5.png"]),
                           ("Labelled", ["im0.png", "im1.png", "im2.png"]),
                           ("No objects", ["im2.png"]), ("Needs review", ["im3.png"]),
                           ("Untagged", ["im1.png", "im3.png", "im4.png", "im5.png"])]:
        pick(w.browser.filter_combo, text)
        assert names(w) == expected, text
    pick(w.browser.filter_combo, "All")
    pick(w.browser.order_combo, "Order: status: needs work first")
    assert names(w) == ["im3.png", "im4.png", "im5.png", "im2.png", "im0.png", "im1.png"]

    # the thumbnail shows the status as a coloured bar under the picture
    pick(w.browser.order_combo, "Order: as added")
    w.browser._thumbs.wait()
    qtbot.wait(50)
    view = w.browser.view
    img = view.viewport().grab().toImage()
    for i, color in [(0, "#3cb44b"), (2, "#4e9ad6"), (3, "#f0a030"), (4, "#5a5e66")]:
        r = view.visualRect(w.browser._model.index(i))
        bar = img.pixelColor(r.x() + 10 + 64, r.y() + 6 + 96 - 1)
        assert bar == QColor(color), (i, bar.name())



def test_pressing_e_marks_no_objects_and_the_browser_follows(window, qtbot):
    w = window
    w.open_media(5)
    w.canvas.setFocus()
    QTest.keyClick(w.windowHandle(), Qt.Key_E)
    assert w.project.status.of(5) == "empty"
    assert w.source.row(w.source.index_of(5)).label_status == "empty"
    assert "no objects" in w.status.label_status.text()
    QTest.keyClick(w.windowHandle(), Qt.Key_R)
    assert w.source.row(w.source.index_of(5)).label_status == "review"
    w.doc.undo_stack.undo()
    w.doc.undo_stack.undo()
    assert w.source.row(w.source.index_of(5)).label_status == "unlabelled"
    QTest.keyClick(w.windowHandle(), Qt.Key_U)          # next not labelled: im5
    assert w.media_id == 6
    QTest.keyClick(w.windowHandle(), Qt.Key_U)          # and around again: im4
    assert w.media_id == 5


def test_order_by_tag_suggestion_confidence(window, qtbot):
    w, p = window, window.project
    run = p.runs.add(name="#1 embed", task="embedder", template="embed_resnet18", run_dir="")
    p.runs.update(run, status="finished")
    day = p.tags.add("day")
    p.tags.set(2, day, True)
    # vectors: "night" along x, "day" along y; untagged images lean one way or the other
    vec = {1: (1, 0), 3: (0.9, 0.1), 2: (0, 1), 4: (0.6, 0.4), 5: (0.1, 0.9), 6: (0.95, 0.05)}
    p.embeddings.put(run, [(EmbeddingKey("image", m), "", np.array(v + (0,) * 6, np.float32))
                           for m, v in vec.items()])
    w.search.refresh_runs()
    pick(w.browser.order_combo, "Order: tag suggestion confidence")
    qtbot.waitUntil(lambda: bool(w.browsing.ranking), timeout=60000)   # sklearn loads
    order = names(w)
    untagged = [n for n in order if n in ("im3.png", "im4.png", "im5.png")]
    assert order[:3] == untagged                              # suggested media first
    conf = [w.browsing.ranking[w.source.ids[i]][0] for i in range(3)]
    assert conf == sorted(conf, reverse=True)
    assert all(w.source.row(i).suggestion for i in range(3))
    assert "ordered by the classifier's confidence" in w.statusBar().currentMessage()


def test_a_videos_thumbnail_is_a_frame_of_it(tmp_path, qapp):
    path = clips.write_cv2(tmp_path / "c.avi", "MJPG", 30)
    img = thumbnail(MediaRow(1, "c.avi", "video", str(path), 0))
    strip = film_strip_icon()
    assert not img.isNull() and img != strip
    assert img.width() == 128 and img.height() == 96
    frame = np.frombuffer(img.convertToFormat(img.Format.Format_RGB888).constBits(),
                          np.uint8).reshape(96, img.bytesPerLine())[:, :128 * 3].reshape(96, 128, 3)
    assert clips.read_index(frame) == 10                     # a third of the way in
