"""The preview of a dataset import: what was found, counts, splits, classes and
problems, with Import / Cancel and, where several label files describe the same
images, a choice between them.

Plain data in (``set_preview``), intents out: ``import_requested``, ``choice_made``
(the chosen label file) and the dialog's ``rejected``. No app imports.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QGroupBox, QLabel,
                               QPlainTextEdit, QRadioButton, QVBoxLayout)


class ImportPreviewDialog(QDialog):
    import_requested = Signal()
    choice_made = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import dataset")
        self.setModal(False)
        self.resize(620, 520)
        self.summary = QLabel(self, wordWrap=True, textFormat=Qt.RichText,
                              textInteractionFlags=Qt.TextSelectableByMouse)
        self.choices = QVBoxLayout()
        self.problems = QPlainTextEdit(self, readOnly=True)
        self.problems.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Cancel, self)
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.AcceptRole)
        self.import_button.setDefault(True)
        self.buttons.accepted.connect(self._import)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addLayout(self.choices)
        lay.addWidget(QLabel("Problems and notes:", self))
        lay.addWidget(self.problems, 1)
        lay.addWidget(self.buttons)
        self._groups: list[QButtonGroup] = []

    def set_preview(self, data: dict) -> None:
        """``{"title", "sources": [str], "images", "boxes", "media", "splits": {name: n},
        "classes": [str], "empty": [str], "dropped": [str], "tags": [str],
        "notes": [str], "problems": [str], "warnings": [str],
        "choices": [{"prompt": str, "options": [(label, value)]}]}``."""
        self.setWindowTitle(data.get("title", "Import dataset"))
        rows = []
        if data.get("sources"):
            rows.append(("found", "<br>".join(escape(s) for s in data["sources"])))
            rows.append(("images", str(data.get("images", 0))))
            rows.append(("boxes", str(data.get("boxes", 0))))
            splits = data.get("splits") or {}
            rows.append(("splits", escape(", ".join(f"{k} {v}" for k, v in splits.items())
                                          or "none (training will split at random)")))
            rows.append(("classes", escape(", ".join(data.get("classes") or []) or "none")))
            if data.get("empty"):
                rows.append(("no boxes", escape(", ".join(data["empty"])) + " (kept)"))
            if data.get("dropped"):
                rows.append(("left out", escape(", ".join(data["dropped"])) + " (placeholders)"))
            if data.get("tags"):
                rows.append(("tags", escape(", ".join(data["tags"]))))
        else:
            rows.append(("media", f"{data.get('media', 0)} images and videos, no labels found"))
        html = "<table>" + "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>"
                                   for k, v in rows) + "</table>"
        html += "".join(f"<p style='color:#e8a33d'><b>⚠ {escape(w)}</b></p>"
                        for w in data.get("warnings") or [])
        self.summary.setText(html)
        self.problems.setPlainText("\n".join(list(data.get("notes") or [])
                                             + list(data.get("problems") or [])) or "none")
        self._set_choices(data.get("choices") or [])

    def _set_choices(self, choices: list[dict]) -> None:
        while self.choices.count():
            item = self.choices.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self._groups = []
        for choice in choices:
            box = QGroupBox(choice.get("prompt", "Choose the labels to use"), self)
            inner = QVBoxLayout(box)
            group = QButtonGroup(box)
            for label, value in choice.get("options", []):
                button = QRadioButton(label, box)
                button.setProperty("value", value)
                group.addButton(button)
                inner.addWidget(button)
            group.buttonClicked.connect(lambda b: self.choice_made.emit(b.property("value")))
            self._groups.append(group)
            self.choices.addWidget(box)
        self.import_button.setEnabled(not choices)
        self.import_button.setToolTip("Choose the labels to use first" if choices else "")

    def set_busy(self, busy: bool) -> None:
        """While the preview is worked out again (after a choice)."""
        self.import_button.setEnabled(not busy and not self._groups)
        for g in self._groups:
            for b in g.buttons():
                b.setEnabled(not busy)

    def _import(self) -> None:
        self.import_requested.emit()
        self.accept()
