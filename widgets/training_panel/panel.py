"""The Training panel: choose a template, edit its hyperparameters, see the data
summary, pick a device, train; follow the run (progress, charts, log); browse the
run history. Plain data in (template descriptions, summaries, trainer events as
dicts), intents out (signals). It starts nothing itself."""

from __future__ import annotations

import contextlib
import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPlainTextEdit, QProgressBar, QPushButton, QScrollArea,
                               QTabWidget, QVBoxLayout, QWidget)

from widgets.training_panel.charts import METRIC_LABELS, RunCharts
from widgets.training_panel.form import HParamForm
from widgets.training_panel.history import RunHistory, fmt_duration

LOG_LINES = 5000
NOTE_COLOUR = "#4e9ad6"


def summarise_event(e: dict) -> str | None:
    """One log line for an event (progress events are shown by the bar instead)."""
    k = e.get("event")
    if k == "started":
        resumed = f", resumed at epoch {e.get('start_epoch', 0) + 1}" if e.get("resumed_from") else ""
        return (f"started on {e['device']}: {e.get('train_images', '?')} train / "
                f"{e.get('val_images', '?')} val images, {e['epochs']} epochs × "
                f"{e['steps_per_epoch']} steps{resumed}")
    if k == "metrics":
        parts = [f"{METRIC_LABELS[m]} {e[m]:.3f}" for m in METRIC_LABELS
                 if isinstance(e.get(m), (int, float))]
        return f"epoch {e['epoch'] + 1}: " + (", ".join(parts) or "no validation images")
    if k == "checkpoint":
        return f"saved {e['kind']} checkpoint after epoch {e['epoch']}"
    if k == "finished":
        best, name = e.get("best_map"), "mAP"
        if not isinstance(best, (int, float)):   # embedders report retrieval precision
            best, name = e.get("best_precision_at_1"), "precision@1"
        return ("finished" + (f", best {name} {best:.3f}" if isinstance(best, (int, float)) else "")
                + (" (stopped early)" if e.get("early_stopped") else ""))
    if k == "cancelled":
        return f"cancelled at epoch {e['epoch'] + 1}, step {e['step']}; checkpoint {e['checkpoint']}"
    if k == "failed":
        return f"failed: {e['message']}\n{e.get('traceback') or ''}".rstrip()
    return None


class TrainingPanel(QWidget):
    train_requested = Signal(str, dict, str, int)  # template, overrides, device, gpus
    cancel_requested = Signal()
    resume_requested = Signal(int)
    open_run_requested = Signal(int)
    use_run_requested = Signal(int)
    template_changed = Signal(str)
    values_changed = Signal(dict)                  # every hyperparameter as text

    def __init__(self, parent=None):
        super().__init__(parent)
        self.templates: list[dict] = []
        self.running = False
        self.busy = False
        self.resumable_run: int | None = None
        self._steps = 1
        self._epochs: int | None = None
        self._error = ""
        self.tabs = QTabWidget()
        self.tabs.addTab(self._setup_tab(), "Setup")
        self.tabs.addTab(self._run_tab(), "Run")
        self.history = RunHistory()
        self.history.open_requested.connect(self.open_run_requested)
        self.history.use_requested.connect(self.use_run_requested)
        self.history.resume_requested.connect(self.resume_requested)
        self.tabs.addTab(self.history, "History")

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.train_button = QPushButton("Train")
        self.train_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.resume_button = QPushButton("Resume")
        self.train_button.clicked.connect(self._train)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.resume_button.clicked.connect(
            lambda: self.resumable_run is not None and self.resume_requested.emit(self.resumable_run))
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        for b in (self.train_button, self.cancel_button, self.resume_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self._update_buttons()

    # -- building --------------------------------------------------------------------------
    def _setup_tab(self) -> QWidget:
        self.task_box = QComboBox()
        self.template_box = QComboBox()
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("font-style: italic;")
        self.device_box = QComboBox()
        self.task_box.currentIndexChanged.connect(self._fill_templates)
        self.template_box.currentIndexChanged.connect(self._template_chosen)
        top = QFormLayout()
        top.addRow("Task", self.task_box)
        top.addRow("Template", self.template_box)
        top.addRow("", self.description)
        top.addRow("", self.hint)
        top.addRow("Device", self.device_box)

        self.form = HParamForm()
        self.form.changed.connect(self._form_changed)
        self.reset_button = QPushButton("Reset to defaults")
        self.reset_button.clicked.connect(self.form.reset)
        hp_box = QGroupBox("Hyperparameters")
        hp_layout = QVBoxLayout(hp_box)
        hp_layout.addWidget(self.form)
        hp_layout.addWidget(self.reset_button, 0, Qt.AlignRight)

        self.summary = QLabel("no data")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        data_box = QGroupBox("Data")
        QVBoxLayout(data_box).addWidget(self.summary)

        inner = QWidget()
        v = QVBoxLayout(inner)
        v.addLayout(top)
        v.addWidget(data_box)
        v.addWidget(hp_box)
        v.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        return scroll

    def _run_tab(self) -> QWidget:
        self.run_title = QLabel("No run yet.")
        self.charts = RunCharts()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.log.setMinimumHeight(70)
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.run_title)
        v.addWidget(self.charts, 4)
        v.addWidget(self.log, 1)
        return w

    # -- plain data in ---------------------------------------------------------------------
    def set_templates(self, templates: list[dict]) -> None:
        """Template descriptions (``TemplateSpec.describe()``); tasks come from them."""
        self.templates = list(templates)
        tasks = list(dict.fromkeys(t["task"] for t in self.templates))
        self.task_box.blockSignals(True)
        self.task_box.clear()
        self.task_box.addItems(tasks)
        self.task_box.blockSignals(False)
        self._fill_templates()

    def set_devices(self, devices: list[dict]) -> None:
        """``[{"label", "device", "gpus"}]``; the first is the default."""
        current = self.device_box.currentText()
        self.device_box.clear()
        for d in devices:
            self.device_box.addItem(d["label"], (d["device"], int(d.get("gpus", 1))))
        i = self.device_box.findText(current)
        self.device_box.setCurrentIndex(max(i, 0))

    def set_summary(self, summary: dict) -> None:
        """``{"images", "boxes", "boxes_per_class", "train", "val", "warnings"}``, and
        optionally ``"negatives"`` and ``"left_out": {"unlabelled", "review"}``."""
        rows = "".join(f"<tr><td>{name}</td><td align=right>&nbsp;{n}</td></tr>"
                       for name, n in summary.get("boxes_per_class", {}).items())
        split = summary.get("split_text") or (
            f"split ≈ {summary.get('train', 0)} train / {summary.get('val', 0)} validation")
        negatives = summary.get("negatives") or 0
        text = (f"<b>{summary.get('images', 0)}</b> labelled images"
                + (f" ({negatives} with no objects)" if negatives else "")
                + f", <b>{summary.get('boxes', 0)}</b> boxes; {split}")
        left = summary.get("left_out") or {}
        parts = [f"{left[k]} {what}" for k, what in (("unlabelled", "not labelled yet"),
                                                      ("review", "needing review"))
                 if left.get(k)]
        if parts:
            text += f"<div>left out: {', '.join(parts)} image(s)</div>"
        text += f"<table>{rows}</table>"
        warnings = summary.get("warnings") or []
        if warnings:
            text += "".join(f"<div style='color:#e8a33d'>⚠ {w}</div>" for w in warnings)
        self.summary.setText(text)

    def set_history(self, rows: list[dict]) -> None:
        self.history.set_rows(rows)

    def set_resumable(self, run_id: int | None) -> None:
        """The run the Resume button goes on with (a cancelled one with a checkpoint)."""
        self.resumable_run = run_id
        self._update_buttons()

    def set_busy(self, busy: bool, text: str = "") -> None:
        """Preparing a run (exporting the dataset): nothing else can start."""
        self.busy = busy
        if text:
            self.status.setText(text)
        self._update_buttons()

    def show_error(self, text: str) -> None:
        self.status.setText(f"<span style='color:#e15759'>{text}</span>")

    # -- one run ---------------------------------------------------------------------------
    def run_started(self, run_id: int, title: str) -> None:
        self.running, self.busy = True, False
        self.run_title.setText(title)
        self.charts.clear()
        self._epochs = None
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.status.setText(f"run #{run_id} training")
        self.tabs.setCurrentIndex(1)
        self._update_buttons()

    def run_ended(self, status: str, message: str = "") -> None:
        self.running = False
        self.progress.setFormat(status)
        if status == "finished":
            self.progress.setValue(self.progress.maximum())
            self.status.setText("finished")
        elif status == "failed":
            self.show_error(f"failed: {message}")
        else:
            self.status.setText(f"{status}" + (f": {message}" if message else ""))
        self._update_buttons()

    def show_event(self, event: dict) -> None:
        """A trainer event: progress → bar and loss chart; metrics → metric chart; log."""
        kind = event.get("event")
        if kind == "progress":
            self._steps = max(int(event["steps"]), 1)
            step = event["epoch"] * self._steps + event["step"]
            self.charts.add_step(step, {"loss": event["loss"], **(event.get("losses") or {})},
                                 event.get("lr"))
            self._show_progress(event)
        elif kind == "started":
            self._epochs = int(event["epochs"])
            self._steps = max(int(event["steps_per_epoch"]), 1)
        elif kind == "metrics":
            self.charts.add_metrics(event["epoch"] + 1, {k: event.get(k) for k in METRIC_LABELS})
        line = summarise_event(event)
        if line:
            self.append_note(line)

    def show_progress(self, event: dict) -> None:
        """Only the progress bar (the charts show another run)."""
        if event.get("event") == "started":
            self._epochs = int(event["epochs"])
        elif event.get("event") == "progress":
            self._show_progress(event)

    def _show_progress(self, e: dict) -> None:
        epochs = self._epochs or e["epoch"] + 1
        done = (e["epoch"] * e["steps"] + e["step"]) / max(epochs * e["steps"], 1)
        self.progress.setValue(int(done * self.progress.maximum()))
        ips = e.get("images_per_s") or 0.0
        eta = fmt_duration(e.get("eta_s")) if e.get("eta_s") is not None else "?"
        self.progress.setFormat(f"epoch {e['epoch'] + 1}/{epochs} · step {e['step']}/{e['steps']} "
                                f"· {ips:.1f} img/s · ETA {eta}")

    def append_log(self, text: str) -> None:
        """The trainer's own output, as it came."""
        with self._following():
            self.log.appendPlainText(text.rstrip("\n"))

    def append_note(self, text: str) -> None:
        """What happened (from events), set apart from the trainer's chatter."""
        first, _, rest = text.partition("\n")
        with self._following():
            self.log.appendHtml(f"<b style='color:{NOTE_COLOUR}'>▸ {html.escape(first)}</b>")
            if rest:
                self.log.appendPlainText(rest)

    @contextlib.contextmanager
    def _following(self):
        """Keep the log at its end unless the user scrolled up to read."""
        bar = self.log.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        yield
        if at_end:
            bar.setValue(bar.maximum())

    def replay(self, title: str, events: list[dict]) -> None:
        """Draw a recorded run's charts and log again (one append per series)."""
        self.run_title.setText(title)
        self.charts.clear()
        self.log.clear()
        steps, rows = 1, []
        for e in events:
            kind = e.get("event")
            if kind == "started":
                steps = max(int(e.get("steps_per_epoch") or 1), 1)
            elif kind == "progress":
                steps = max(int(e["steps"]), 1)
                rows.append((e["epoch"] * steps + e["step"],
                             {"loss": e["loss"], **(e.get("losses") or {})}, e.get("lr")))
            elif kind == "metrics":
                self.charts.add_metrics(e["epoch"] + 1, {k: e.get(k) for k in METRIC_LABELS})
            line = summarise_event(e)
            if line:
                self.append_note(line)
        self.charts.add_steps(rows)
        self.tabs.setCurrentIndex(1)

    # -- intents ---------------------------------------------------------------------------
    def current_template(self) -> dict | None:
        name = self.template_box.currentData()
        return next((t for t in self.templates if t["name"] == name), None)

    def current_device(self) -> tuple[str, int]:
        return self.device_box.currentData() or ("cpu", 1)

    def _fill_templates(self) -> None:
        task = self.task_box.currentText()
        self.template_box.blockSignals(True)
        self.template_box.clear()
        for t in self.templates:
            if t["task"] == task:
                self.template_box.addItem(t["name"], t["name"])
                self.template_box.setItemData(self.template_box.count() - 1,
                                              f"{t['description']}\n{t['hint']}", Qt.ToolTipRole)
        self.template_box.blockSignals(False)
        self._template_chosen()

    def select_template(self, name: str) -> None:
        for task_i in range(self.task_box.count()):
            if any(t["name"] == name and t["task"] == self.task_box.itemText(task_i)
                   for t in self.templates):
                self.task_box.setCurrentIndex(task_i)
        i = self.template_box.findData(name)
        if i >= 0:
            self.template_box.setCurrentIndex(i)

    def _template_chosen(self) -> None:
        t = self.current_template()
        self.description.setText(t["description"] if t else "no templates for this task")
        self.hint.setText(t["hint"] if t else "")
        self.form.set_fields(t["hparams"] if t else [])
        if t:
            self.template_changed.emit(t["name"])

    def _form_changed(self) -> None:
        bad = self.form.invalid()
        self._error = f"invalid: {', '.join(bad)}" if bad else ""
        self.status.setText(self._error)
        self._update_buttons()
        self.values_changed.emit(self.form.values())

    def _train(self) -> None:
        t = self.current_template()
        if t is None or not self.form.is_valid() or self.running or self.busy:
            return
        device, gpus = self.current_device()
        self.train_requested.emit(t["name"], self.form.overrides(), device, gpus)

    def _update_buttons(self) -> None:
        idle = not self.running and not self.busy
        self.train_button.setEnabled(idle and self.current_template() is not None
                                     and self.form.is_valid())
        self.cancel_button.setEnabled(self.running)
        self.resume_button.setEnabled(idle and self.resumable_run is not None)
        self.history.set_busy(not idle)
        for w in (self.task_box, self.template_box, self.device_box, self.form, self.reset_button):
            w.setEnabled(idle)
