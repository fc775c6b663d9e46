"""Status-bar widget: zoom %, cursor position in image pixels, image size, box count,
the picture's labelling status and what became of the model's proposals."""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget


#: The colours every view uses for a labelling status (thumbnails, status bar).
STATUS_COLORS = {"not labelled": "#9aa0a6", "labelled": "#3cb44b", "no objects": "#4e9ad6",
                 "needs review": "#f0a030"}


class CanvasStatus(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.zoom_label = QLabel(self)
        self.cursor_label = QLabel(self)
        self.size_label = QLabel(self)
        self.boxes_label = QLabel(self)
        self.label_status = QLabel(self)
        self.proposals_label = QLabel(self)    # what became of the model's proposals
        self.proposals_label.setToolTip("The model's proposals (pre-labels): accepted "
                                        "unchanged · edited into labels · deleted")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.setSpacing(16)
        for w in (self.cursor_label, self.size_label, self.boxes_label, self.label_status,
                  self.proposals_label, self.zoom_label):
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

    def set_label_status(self, text: str) -> None:
        """"not labelled", "labelled", "no objects" or "needs review"."""
        color = STATUS_COLORS.get(text, "#9aa0a6")
        self.label_status.setText(f"<span style='color:{color}'>● {text}</span>" if text else "")

    def set_proposal_counts(self, accepted: int, edited: int, deleted: int) -> None:
        """How the model's proposals fared: hidden until there is one."""
        self.proposals_label.setText(
            f"proposals: {accepted} accepted · {edited} edited · {deleted} deleted"
            if accepted or edited or deleted else "")

    def connect_canvas(self, canvas) -> None:
        """Follow a BoxCanvas: its zoom and cursor signals."""
        canvas.zoom_changed.connect(self.set_zoom)
        canvas.cursor_moved.connect(self.set_cursor)
        self.set_zoom(canvas.zoom())
