"""Status-bar widget: zoom %, cursor position in image pixels, image size, box count."""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget


class CanvasStatus(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.zoom_label = QLabel(self)
        self.cursor_label = QLabel(self)
        self.size_label = QLabel(self)
        self.boxes_label = QLabel(self)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.setSpacing(16)
        for w in (self.cursor_label, self.size_label, self.boxes_label, self.zoom_label):
            lay.addWidget(w)
        self.set_zoom(1.0)
        self.clear_cursor()
        self.set_image_size(None)
        self.set_box_count(0)

    def set_zoom(self, scale: float) -> None:
        self.zoom_label.setText(f"{scale * 100:.0f}%")

    def set_cursor(self, x: float, y: float) -> None:
        self.cursor_label.setText(f"x {int(x)}  y {int(y)}")

    def clear_cursor(self) -> None:
        self.cursor_label.setText("x –  y –")

    def set_image_size(self, size: tuple[int, int] | None) -> None:
        self.size_label.setText("no image" if not size else f"{int(size[0])}×{int(size[1])}")

    def set_box_count(self, n: int) -> None:
        self.boxes_label.setText("1 box" if n == 1 else f"{n} boxes")

    def connect_canvas(self, canvas) -> None:
        """Follow a BoxCanvas: its zoom and cursor signals."""
        canvas.zoom_changed.connect(self.set_zoom)
        canvas.cursor_moved.connect(self.set_cursor)
        self.set_zoom(canvas.zoom())
