"""The export dialog: format, and whether images not labelled yet go out too.

Plain data in (the formats, how many pictures are labelled or not), the choice out;
the app picks the folder and exports.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout,
                               QLabel, QVBoxLayout)


class ExportDialog(QDialog):
    def __init__(self, formats: list[str], labelled: int, unlabelled: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export dataset")
        self.format = QComboBox()
        self.format.addItems(formats)
        self.include_unlabelled = QCheckBox(f"Also write the {unlabelled} image(s) not labelled "
                                            "yet (without boxes, marked as not labelled)")
        self.include_unlabelled.setEnabled(unlabelled > 0)
        note = QLabel(f"{labelled} labelled image(s) go out with their boxes; one marked "
                      "“no objects” is written without boxes (a true negative).")
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Format", self.format)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.include_unlabelled)
        layout.addWidget(buttons)

    def choice(self) -> tuple[str, bool]:
        """(format, include images not labelled yet)."""
        return self.format.currentText(), self.include_unlabelled.isChecked()
