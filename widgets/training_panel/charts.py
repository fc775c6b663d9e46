"""Live training charts (QtCharts): loss parts and learning rate per step, and the
validation metric per epoch. Fed with plain numbers; knows nothing of events."""

from __future__ import annotations

import html
import math

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QValueAxis

METRIC_LABELS = {"map": "mAP", "map50": "mAP50", "precision_at_1": "precision@1",
                 "r_precision": "R-precision", "map_at_r": "mAP@R"}


def nice_step(span: float, ticks: int = 5) -> float:
    """A 1/2/5×10^k tick interval, at least 1 (steps and epochs are whole numbers)."""
    raw = max(span / ticks, 1.0)
    k = 10 ** math.floor(math.log10(raw))
    return next(m * k for m in (1, 2, 5, 10) if m * k >= raw)


class _Axes:
    """A value axis that grows to hold every point it has seen; ``integer`` axes
    get whole-number ticks (a %d label on a 1.25 tick would lie)."""

    def __init__(self, axis: QValueAxis, floor: float | None = None, integer: bool = False):
        self.axis, self.floor, self.integer = axis, floor, integer
        self.lo = self.hi = None
        if integer:
            axis.setTickType(QValueAxis.TicksDynamic)
            axis.setTickAnchor(0)
            axis.setTickInterval(1)

    def reset(self) -> None:
        self.lo = self.hi = None
        self.axis.setRange(0, 1)

    def include(self, values) -> None:
        values = [v for v in values if v is not None]
        if not values:
            return
        lo, hi = min(values), max(values)
        self.lo = lo if self.lo is None else min(self.lo, lo)
        self.hi = hi if self.hi is None else max(self.hi, hi)
        lo = self.floor if self.floor is not None else self.lo
        hi = self.hi if self.hi > lo else lo + 1e-9 + abs(lo) * 0.1
        if self.integer:
            step = nice_step(hi - lo)
            self.axis.setTickInterval(step)
            self.axis.setRange(lo, max(math.ceil(hi / step) * step, lo + step))
        else:
            self.axis.setRange(lo, hi + (hi - lo) * 0.05)


class _Chart(QChartView):
    def __init__(self, title: str, x_title: str, parent=None):
        chart = QChart()
        chart.setTitle(title)
        # The legend is a wrapping label under the chart (``legend``): QtCharts' own
        # legend is one row, cut short ("classi…") in a panel of ordinary width.
        chart.legend().hide()
        chart.setMargins(chart.margins() * 0)
        dark = QApplication.palette().color(QPalette.Window).lightness() < 128
        chart.setTheme(QChart.ChartThemeDark if dark else QChart.ChartThemeLight)
        super().__init__(chart, parent)
        self.setRenderHint(QPainter.Antialiasing)
        self.setMinimumHeight(170)
        self.x = QValueAxis()
        self.x.setTitleText(x_title)
        self.x.setLabelFormat("%d")
        chart.addAxis(self.x, Qt.AlignBottom)
        self.x_range = _Axes(self.x, floor=0.0, integer=True)
        self.series: dict[str, QLineSeries] = {}
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.RichText)

    def add_series(self, key: str, label: str, y: QValueAxis, dashed: str = "") -> QLineSeries:
        """``dashed``: a colour for a dashed line set apart from the theme's colours."""
        s = QLineSeries()
        s.setName(label)
        self.chart().addSeries(s)
        s.attachAxis(self.x)
        s.attachAxis(y)
        if dashed:
            s.setPen(QPen(QColor(dashed), 1.5, Qt.DashLine))
        self.series[key] = s
        self._update_legend()
        return s

    def clear(self) -> None:
        for s in self.series.values():
            self.chart().removeSeries(s)
        self.series.clear()
        self.x_range.reset()
        self._update_legend()

    def _update_legend(self) -> None:
        self.legend.setText(" &nbsp; ".join(
            f"<span style='color:{s.color().name()}'>■</span>&nbsp;{html.escape(s.name())}"
            for s in self.series.values()))


class RunCharts(QWidget):
    """Two charts: training losses + learning rate (per step), validation (per epoch)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.loss_view = _Chart("Training loss and learning rate", "step")
        self.loss_axis = QValueAxis()
        self.loss_axis.setTitleText("loss")
        self.lr_axis = QValueAxis()
        self.lr_axis.setTitleText("lr")
        self.lr_axis.setLabelFormat("%.2g")
        self.loss_view.chart().addAxis(self.loss_axis, Qt.AlignLeft)
        self.loss_view.chart().addAxis(self.lr_axis, Qt.AlignRight)
        self.loss_range = _Axes(self.loss_axis, floor=0.0)
        self.lr_range = _Axes(self.lr_axis, floor=0.0)
        self.metric_view = _Chart("Validation", "epoch")
        self.metric_axis = QValueAxis()
        self.metric_axis.setTitleText("score")
        self.metric_axis.setRange(0, 1)
        self.metric_view.chart().addAxis(self.metric_axis, Qt.AlignLeft)
        self.metric_range = _Axes(self.metric_axis, floor=0.0)
        layout.addWidget(self.loss_view, 3)
        layout.addWidget(self.loss_view.legend)
        layout.addWidget(self.metric_view, 2)
        layout.addWidget(self.metric_view.legend)

    def clear(self) -> None:
        for view in (self.loss_view, self.metric_view):
            view.clear()
        for r in (self.loss_range, self.lr_range, self.metric_range):
            r.reset()
        self.metric_axis.setRange(0, 1)

    # -- feeding -------------------------------------------------------------------------
    def add_step(self, step: float, losses: dict[str, float], lr: float | None) -> None:
        """One training step: the loss parts (``loss`` = total) and the learning rate."""
        self.add_steps([(step, losses, lr)])

    def add_steps(self, rows: list[tuple[float, dict, float | None]]) -> None:
        """Many steps at once (replaying a finished run): one append per series."""
        points: dict[str, list[QPointF]] = {}
        for step, losses, lr in rows:
            for key, value in losses.items():
                if value is not None:
                    points.setdefault(key, []).append(QPointF(step, value))
            if lr is not None:
                points.setdefault("__lr", []).append(QPointF(step, lr))
        if not points:
            return
        view = self.loss_view
        for key, pts in points.items():
            s = view.series.get(key) or view.add_series(
                key, "learning rate" if key == "__lr" else key.removeprefix("loss_"),
                self.lr_axis if key == "__lr" else self.loss_axis,
                dashed="#9aa0a6" if key == "__lr" else "")
            s.append(pts)
            (self.lr_range if key == "__lr" else self.loss_range).include(p.y() for p in pts)
        view.x_range.include([rows[0][0], rows[-1][0]])

    def add_metrics(self, epoch: int, metrics: dict[str, float | None]) -> None:
        """One evaluation: ``epoch`` counts from 1; keys as in METRIC_LABELS."""
        view = self.metric_view
        for key, value in metrics.items():
            if value is None or key not in METRIC_LABELS:
                continue
            s = view.series.get(key) or view.add_series(key, METRIC_LABELS[key], self.metric_axis)
            s.append(QPointF(epoch, value))
            self.metric_range.include([value])
        view.x_range.include([0, epoch])
        self.metric_axis.setMax(max(self.metric_axis.max(), 0.1))

    def point_counts(self) -> dict[str, int]:
        """Points per series, by key (``__lr`` for the learning rate): for tests."""
        return {k: s.count() for view in (self.loss_view, self.metric_view)
                for k, s in view.series.items()}
