"""The run history table: one row per run (plain dicts), with intents to open a
run's charts, make its model the active one, or resume it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

# Sized to fit a panel of ordinary width (440 px at the window's default 1400x900): the
# template column takes what is left and elides; the full row is in every cell's tooltip.
COLUMNS = ("run", "template", "status", "best", "img · boxes", "time")


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def chain_text(row: dict) -> str:
    """Keep training's chain step of a run (Label next), from its dataset record."""
    chain = (row.get("dataset") or {}).get("chain") or {}
    if chain.get("parent") is None:
        return ""
    text = f"fine-tuned from #{chain['parent']}"
    if chain.get("new_labels") is not None:
        text += f" with {chain['new_labels']} new labelled pictures"
    cm, pm = chain.get("map"), chain.get("parent_map")
    if cm is not None and pm is not None:
        text += f"; mAP {cm:.3f} vs {pm:.3f} on {chain.get('compared_on', 0)} pictures neither trained on"
    elif chain.get("note"):
        text += f"; {chain['note']}"
    verdict = chain.get("verdict")
    if verdict:
        text += "; became the active model" if verdict == "active" else \
            f"; #{chain['parent']} stayed active"
    return text


class RunHistory(QWidget):
    """Rows: ``{"id", "template", "status", "best_metric", "images", "boxes",
    "duration_s", "created", "hyperparameters", "message", "resumable", "active"}``."""

    open_requested = Signal(int)
    use_requested = Signal(int)
    resume_requested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[dict] = []
        self.busy = False  # a run is training: nothing can be resumed meanwhile
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setTextElideMode(Qt.ElideMiddle)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        header.setMinimumSectionSize(24)
        header.setStretchLastSection(False)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.cellDoubleClicked.connect(lambda *_: self._emit(self.open_requested))
        self.open_button = QPushButton("Show charts")
        self.use_button = QPushButton("Use this model")
        self.resume_button = QPushButton("Resume")
        self.open_button.clicked.connect(lambda: self._emit(self.open_requested))
        self.use_button.clicked.connect(lambda: self._emit(self.use_requested))
        self.resume_button.clicked.connect(lambda: self._emit(self.resume_requested))
        buttons = QHBoxLayout()
        for b in (self.open_button, self.use_button, self.resume_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def set_rows(self, rows: list[dict]) -> None:
        selected = self.selected_id()
        self.rows = list(rows)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            best = row.get("best_metric")
            started = (row.get("created") or "")[:16].replace("T", " ")
            chain = chain_text(row)
            parent = ((row.get("dataset") or {}).get("chain") or {}).get("parent")
            cells = (f"#{row['id']}" + (f" ← #{parent}" if chain else "")
                     + (" ✓" if row.get("active") else ""),
                     row.get("template", ""), row.get("status", ""),
                     "" if best is None else f"{best:.3f}",
                     f"{row.get('images', 0)} · {row.get('boxes', 0)}",
                     fmt_duration(row.get("duration_s")))
            hp = ", ".join(f"{k}={v}" for k, v in sorted((row.get("hyperparameters") or {}).items()))
            tip = "\n".join(x for x in (
                f"#{row['id']} {row.get('template', '')}, started {started}"
                + (" (the active model)" if row.get("active") else ""),
                f"{row.get('images', 0)} images, {row.get('boxes', 0)} boxes",
                chain, f"hyperparameters: {hp or 'defaults'}", row.get("message") or "") if x)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                item.setData(Qt.UserRole, row["id"])
                self.table.setItem(r, c, item)
        if selected is not None:
            self.select(selected)
        self._update_buttons()

    def select(self, run_id: int) -> None:
        for r, row in enumerate(self.rows):
            if row["id"] == run_id:
                self.table.selectRow(r)
                return

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()]["id"] if rows and rows[0].row() < len(self.rows) else None

    def selected_row(self) -> dict | None:
        rid = self.selected_id()
        return next((r for r in self.rows if r["id"] == rid), None)

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.selected_row()
        self.open_button.setEnabled(row is not None)
        self.use_button.setEnabled(row is not None and row.get("status") in ("finished", "cancelled")
                                   and bool(row.get("has_model")))
        self.resume_button.setEnabled(row is not None and bool(row.get("resumable")) and not self.busy)

    def _emit(self, signal) -> None:
        rid = self.selected_id()
        if rid is not None:
            signal.emit(rid)
