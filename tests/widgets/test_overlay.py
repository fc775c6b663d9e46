"""The prediction overlay shows on any photo: a contrasting halo at a constant width on
screen, captions that never cover one another, proposals on pictures not labelled."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage

from widgets.canvas import BoxCanvas
from widgets.canvas.overlay import OverlayBox, PredictionOverlay, _free_spot, _halo


def _canvas(qtbot, color: str):
    canvas = BoxCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(640, 480)
    canvas.show()
    img = QImage(320, 240, QImage.Format_RGB32)
    img.fill(QColor(color))
    canvas.set_image(img)
    overlay = PredictionOverlay()
    overlay.set_size(320, 240)
    overlay.set_threshold(0.0)
    canvas.add_overlay(overlay)
    return canvas, overlay


def _grab(canvas) -> QImage:
    return canvas.viewport().grab().toImage()


@pytest.mark.parametrize("background, color", [("#f2f2f2", "#ffd400"), ("#101010", "#1f3b73"),
                                               ("#808080", "#7f7f7f")])
def test_an_outline_shows_whatever_the_photo(qtbot, background, color):
    canvas, overlay = _canvas(qtbot, background)
    overlay.set_boxes([OverlayBox(1, 100, 80, 200, 160, 1, "car", color, 0.9)])
    qtbot.wait(20)
    img = _grab(canvas)
    p = canvas.viewport_point(100, 120)               # middle of the left edge
    bg = QColor(background)
    far = [img.pixelColor(int(p.x()) + dx, int(p.y()) + dy) for dx in range(-3, 4)
           for dy in range(-6, 7)]
    contrast = max(abs(c.lightness() - bg.lightness()) for c in far)
    assert contrast > 90, (background, color, contrast)   # the halo stands out of the photo


def test_halo_is_dark_under_light_colours_and_light_under_dark_ones():
    assert _halo(QColor("#ffd400")) == QColor(0, 0, 0)
    assert _halo(QColor("#1f3b73")) == QColor(255, 255, 255)


def test_captions_never_cover_one_another(qtbot):
    # ten boxes nearly on top of each other, as detections of one crowded object are
    boxes = [QRectF(100 + i, 100 + i, 60, 50) for i in range(10)]
    placed: list[QRectF] = []
    for box in boxes:
        spot = _free_spot(box, 80, 14, placed, QRectF(0, 0, 640, 480))
        if spot is not None:
            assert not any(spot.intersects(q) for q in placed)
            placed.append(spot)
    assert 3 <= len(placed) < 10          # below, above, inside; the rest are left out
    canvas, overlay = _canvas(qtbot, "#404040")
    overlay.set_boxes([OverlayBox(i, 100 + i, 100 + i, 160 + i, 150 + i, 1, "person", "#e15759",
                                  0.9 - i / 100) for i in range(10)])
    _grab(canvas)
    assert 3 <= overlay.captions_shown < 10


def test_proposals_keep_their_class_colour_in_review(qtbot):
    canvas, overlay = _canvas(qtbot, "#202020")
    overlay.set_review(True)
    overlay.set_boxes([OverlayBox(1, 10, 10, 50, 50, 1, "car", "#4e79a7", 0.9, "proposal"),
                       OverlayBox(2, 60, 10, 100, 50, 1, "car", "#4e79a7", 0.9, "fp")])
    assert overlay._color(overlay.boxes()[0]) == QColor("#4e79a7")
    assert overlay._color(overlay.boxes()[1]) == QColor("#ff4d4d")
