"""Review metrics of a run as plain data in: per-class AP table, precision–recall
curves, confusion matrix."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (QDialog, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)


def _fmt(v) -> str:
    return "—" if v is None else f"{v:.3f}"


class PRCurve(QWidget):
    """Precision (y) against recall (x), one line per class."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.curves: list[tuple[str, str, list, list, float | None]] = []
        self.setMinimumSize(360, 280)

    def set_curves(self, curves) -> None:
        self.curves = list(curves)
        self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(self.rect(), QColor("#1e2126"))
        plot = QRectF(44, 12, self.width() - 160, self.height() - 44)
        p.setPen(QColor("#8a8f98"))
        p.drawRect(plot)
        for i in range(0, 11, 2):
            t = i / 10
            x, y = plot.left() + t * plot.width(), plot.bottom() - t * plot.height()
            p.drawText(QRectF(x - 15, plot.bottom() + 2, 30, 14), Qt.AlignCenter, f"{t:.1f}")
            p.drawText(QRectF(4, y - 7, 36, 14), Qt.AlignRight | Qt.AlignVCenter, f"{t:.1f}")
        p.drawText(QRectF(plot.left(), plot.bottom() + 16, plot.width(), 14), Qt.AlignCenter, "recall")
        p.save()
        p.translate(10, plot.center().y())
        p.rotate(-90)
        p.drawText(QRectF(-40, -8, 80, 14), Qt.AlignCenter, "precision")
        p.restore()
        for n, (name, color, recall, precision, ap) in enumerate(self.curves):
            path = QPainterPath()
            for i, (r, pr) in enumerate(zip(recall, precision)):
                pt = QPointF(plot.left() + r * plot.width(), plot.bottom() - pr * plot.height())
                path.moveTo(pt) if i == 0 else path.lineTo(pt)
            pen = QPen(QColor(color), 2)
            p.setPen(pen)
            p.drawPath(path)
            p.drawText(QRectF(plot.right() + 8, plot.top() + 16 * n, 110, 14), Qt.AlignLeft,
                       f"{name}  AP50 {_fmt(ap)}")
        if not self.curves:
            p.setPen(QColor("#8a8f98"))
            p.drawText(plot, Qt.AlignCenter, "no predictions on these frames yet")
        p.end()


class MetricsDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review metrics")
        self.resize(620, 460)
        self.scope = QLabel()
        self.scope.setWordWrap(True)
        self.ap_table = QTableWidget(0, 3)
        self.ap_table.setHorizontalHeaderLabels(["class", "AP@[.5:.95] (trainer)", "AP50 (review)"])
        header = self.ap_table.horizontalHeader()      # every column readable at any width
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        self.ap_table.verticalHeader().hide()
        self.curve = PRCurve()
        self.confusion = QTableWidget()
        self.confusion.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        tabs = QTabWidget()
        tabs.addTab(self.ap_table, "AP per class")
        tabs.addTab(self.curve, "Precision–recall")
        tabs.addTab(self.confusion, "Confusion")
        self.tabs = tabs
        layout = QVBoxLayout(self)
        layout.addWidget(self.scope)
        layout.addWidget(tabs, 1)

    def set_scope(self, text: str) -> None:
        self.scope.setText(text)

    def set_ap(self, rows: list[tuple[str, float | None, float | None]]) -> None:
        self.ap_table.setRowCount(len(rows))
        for i, (name, trainer_ap, review_ap) in enumerate(rows):
            for j, text in enumerate((name, _fmt(trainer_ap), _fmt(review_ap))):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemIsEnabled)
                self.ap_table.setItem(i, j, item)

    def set_curves(self, curves) -> None:
        self.curve.set_curves(curves)

    def set_confusion(self, names: list[str], matrix) -> None:
        """Rows: labelled class (last: no object); columns: predicted class (last: none)."""
        heads = list(names) + ["(none)"]
        self.confusion.setRowCount(len(heads))
        self.confusion.setColumnCount(len(heads))
        self.confusion.setHorizontalHeaderLabels([f"pred {h}" for h in heads])
        self.confusion.setVerticalHeaderLabels([f"label {h}" for h in heads])
        peak = max(1, int(max((max(r) for r in matrix), default=0)))
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                item = QTableWidgetItem(str(int(v)))
                item.setTextAlignment(Qt.AlignCenter)
                item.setFlags(Qt.ItemIsEnabled)
                good = i == j and i < len(names)
                shade = QColor("#2e7d32" if good else "#b23b3b")
                shade.setAlpha(40 + int(200 * v / peak) if v else 0)
                item.setBackground(shade)
                self.confusion.setItem(i, j, item)
