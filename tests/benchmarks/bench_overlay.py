"""Predictions overlay: extra paint time per frame (run: python tests/benchmarks/bench_overlay.py).

Paints the canvas (1280x720 frame, 20 labels) into an offscreen pixmap with and
without the overlay holding 50 predictions with captions, plain and in review mode.
"""
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QColor, QImage, QPainter, QPixmap  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from widgets.canvas import BoxCanvas  # noqa: E402
from widgets.canvas.overlay import OverlayBox, PredictionOverlay  # noqa: E402
from widgets.shapes import BoxShape  # noqa: E402


def paint_ms(canvas, n=60) -> float:
    pix = QPixmap(canvas.viewport().size())
    times = []
    for _ in range(n):
        canvas.viewport().update()
        t0 = time.perf_counter()
        painter = QPainter(pix)
        canvas.render(painter)
        painter.end()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    canvas = BoxCanvas()
    canvas.resize(1280, 760)
    canvas.show()
    img = QImage(1280, 720, QImage.Format_RGB888)
    img.fill(QColor("#345"))
    canvas.set_image(img)
    canvas.set_boxes([BoxShape(i, 20 + 60 * i, 40, 70 + 60 * i, 120, 1, "car", "#4e79a7")
                      for i in range(20)])
    app.processEvents()
    base = paint_ms(canvas)
    overlay = PredictionOverlay()
    overlay.set_size(1280, 720)
    canvas.add_overlay(overlay)
    boxes = [OverlayBox(i, 10 + 24 * i, 200 + (i % 5) * 90, 60 + 24 * i, 270 + (i % 5) * 90, 1,
                        "car", "#f28e2b", 0.5 + (i % 50) / 100, ("tp", "fp", "fn")[i % 3])
             for i in range(50)]
    overlay.set_boxes(boxes)
    overlay.set_threshold(0.0)
    app.processEvents()
    plain = paint_ms(canvas)
    overlay.set_review(True)
    review = paint_ms(canvas)
    print(f"canvas paint, 1280x720, 20 labels:     {base:.2f} ms (median of 60)")
    print(f"+ overlay, 50 predictions + captions: {plain:.2f} ms  (+{plain - base:.2f} ms)")
    print(f"+ overlay in review mode:             {review:.2f} ms  (+{review - base:.2f} ms)")
    print(f"captions drawn (none over another):   {overlay.captions_shown} of {len(boxes)}")


if __name__ == "__main__":
    main()
