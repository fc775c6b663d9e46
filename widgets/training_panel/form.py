"""A hyperparameter form generated from a template's ``describe()`` hparams list.

Plain data in (``[{"name", "type", "default", "help", "range"|"choices", "or_file"?}]``),
plain data out (``values()``, ``overrides()`` as ``key=value`` strings). Every
editor refuses what it cannot hold: spin boxes are clamped to the range, text
fields carry validators and are marked while their text is not acceptable.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit,
                               QSpinBox, QWidget)

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
_INVALID_STYLE = "background: #5a2a2a;"


def _in_range(x: float, field: dict) -> bool:
    lo, hi = field.get("range", (-math.inf, math.inf))
    return math.isfinite(x) and lo <= x <= hi


class FloatValidator(QValidator):
    """One float within the field's range; partial numbers are Intermediate."""

    def __init__(self, field: dict, parent=None):
        super().__init__(parent)
        self.field = field

    def validate(self, text: str, pos: int):
        s = text.strip()
        if s in ("", "-", "+", ".", "-.") or s.lower().endswith(("e", "e-", "e+")):
            return QValidator.Intermediate, text, pos
        try:
            x = float(s)
        except ValueError:
            return QValidator.Invalid, text, pos
        return (QValidator.Acceptable if _in_range(x, self.field) else QValidator.Intermediate,
                text, pos)


class FloatsValidator(QValidator):
    """A comma-separated list of floats, each within the range."""

    def __init__(self, field: dict, parent=None):
        super().__init__(parent)
        self.field = field

    def validate(self, text: str, pos: int):
        parts = [p.strip() for p in text.split(",")]
        state = QValidator.Acceptable
        for p in parts:
            if p == "" or p in ("-", ".") or p.lower().endswith("e"):
                state = QValidator.Intermediate
                continue
            try:
                x = float(p)
            except ValueError:
                return QValidator.Invalid, text, pos
            if not _in_range(x, self.field):
                state = QValidator.Intermediate
        return state, text, pos


class ChoiceOrFileValidator(QValidator):
    """One of the choices, or (for ``or_file`` fields) a path to a .pt/.pth file."""

    def __init__(self, field: dict, parent=None):
        super().__init__(parent)
        self.choices = [str(c) for c in field["choices"]]

    def validate(self, text: str, pos: int):
        s = text.strip()
        ok = s in self.choices or s.endswith((".pt", ".pth"))
        return (QValidator.Acceptable if ok else QValidator.Intermediate), text, pos


def is_log_scale(field: dict) -> bool:
    """Floats whose useful values span decades (lr, weight decay) are typed, not spun."""
    lo, hi = field.get("range", (0.0, 1.0))
    d = abs(float(field["default"]))
    return (0 < d < 0.01) or (lo > 0 and hi / lo >= 1e4)


def _decimals(field: dict) -> int:
    d, n = float(field["default"]), 2 if field.get("range", (0, 2))[1] > 1 else 3
    while n < 6 and round(d, n) != d:
        n += 1
    return n


def _fmt_float(x: float) -> str:
    return repr(float(x)) if abs(x) >= 1e-3 or x == 0 else f"{x:g}"


class HParamForm(QWidget):
    """Editors for one template's hyperparameters."""

    changed = Signal()   # any value edited (also on reset)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = QFormLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.fields: list[dict] = []
        self.editors: dict[str, QWidget] = {}

    # -- building -----------------------------------------------------------------------
    def set_fields(self, fields: list[dict]) -> None:
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self.fields = [dict(f) for f in fields]
        self.editors = {}
        for f in self.fields:
            editor = self._editor(f)
            editor.setObjectName(f"hp_{f['name']}")
            editor.setToolTip(self._tooltip(f))
            self.editors[f["name"]] = editor
            self._layout.addRow(f["name"].replace("_", " "), editor)
            label = self._layout.labelForField(editor)
            if label is not None:
                label.setToolTip(editor.toolTip())
        self.reset()

    def _tooltip(self, f: dict) -> str:
        limits = (f"range {f['range'][0]} … {f['range'][1]}" if "range" in f else
                  "one of " + ", ".join(map(str, f["choices"])) if "choices" in f else "")
        if f.get("or_file"):
            limits += ", or a .pt/.pth file"
        lines = [f["help"], limits, f"default: {self._text(f, f['default'])}"]
        return "\n".join(line for line in lines if line)

    def _editor(self, f: dict) -> QWidget:
        t = f["type"]
        if "choices" in f:
            box = QComboBox()
            box.addItems([self._text(f, c) for c in f["choices"]])
            if f.get("or_file"):
                box.setEditable(True)
                box.lineEdit().setValidator(ChoiceOrFileValidator(f, box))
                box.lineEdit().textChanged.connect(lambda _t, b=box: self._mark(b.lineEdit()))
                box.lineEdit().textChanged.connect(self.changed)
            box.currentIndexChanged.connect(self.changed)
            return box
        if t == "bool":
            box = QCheckBox()
            box.toggled.connect(self.changed)
            return box
        if t == "int":
            box = QSpinBox()
            lo, hi = f.get("range", (INT_MIN, INT_MAX))
            box.setRange(max(int(lo), INT_MIN), min(int(hi), INT_MAX))
            box.valueChanged.connect(self.changed)
            return box
        if t == "float" and not is_log_scale(f):
            box = QDoubleSpinBox()
            lo, hi = f.get("range", (-1e9, 1e9))
            box.setDecimals(_decimals(f))
            box.setRange(float(lo), float(hi))
            box.setSingleStep(0.01 if hi - lo <= 1 else 0.1 if hi - lo <= 10 else 1.0)
            box.valueChanged.connect(self.changed)
            return box
        edit = QLineEdit()
        if t == "float":
            edit.setValidator(FloatValidator(f, edit))
        elif t == "floats":
            edit.setValidator(FloatsValidator(f, edit))
            edit.setPlaceholderText("comma-separated numbers")
        edit.textChanged.connect(lambda _t, e=edit: self._mark(e))
        edit.textChanged.connect(self.changed)
        return edit

    @staticmethod
    def _mark(edit: QLineEdit) -> None:
        edit.setStyleSheet("" if edit.hasAcceptableInput() else _INVALID_STYLE)

    @staticmethod
    def _text(f: dict, value) -> str:
        if f["type"] == "floats":
            return ", ".join(_fmt_float(v) for v in value)
        if f["type"] == "float":
            return _fmt_float(value)
        if f["type"] == "bool":
            return "true" if value else "false"
        return str(value)

    # -- values ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Every editor back to the template's default."""
        self.blockSignals(True)
        try:
            for f in self.fields:
                self.set_value(f["name"], f["default"])
        finally:
            self.blockSignals(False)
        self.changed.emit()

    def set_value(self, name: str, value) -> None:
        f = next(x for x in self.fields if x["name"] == name)
        editor = self.editors[name]
        if isinstance(editor, QComboBox):
            text = self._text(f, value)
            i = editor.findText(text)
            if i >= 0:
                editor.setCurrentIndex(i)
            if editor.isEditable():
                editor.setEditText(text)
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value) if not isinstance(value, str)
                              else value.lower() in ("1", "true", "yes", "on"))
        elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
            editor.setValue(type(editor.value())(value))
        else:
            editor.setText(value if isinstance(value, str) else self._text(f, value))

    def _raw(self, f: dict) -> str:
        editor = self.editors[f["name"]]
        if isinstance(editor, QComboBox):
            return editor.currentText().strip()
        if isinstance(editor, QCheckBox):
            return "true" if editor.isChecked() else "false"
        if isinstance(editor, QSpinBox):
            return str(editor.value())
        if isinstance(editor, QDoubleSpinBox):
            return _fmt_float(editor.value())
        return editor.text().strip()

    def invalid(self) -> list[str]:
        """Names of fields whose text is not acceptable (spin boxes always are)."""
        bad = []
        for name, editor in self.editors.items():
            edit = editor.lineEdit() if isinstance(editor, QComboBox) and editor.isEditable() \
                else editor if isinstance(editor, QLineEdit) else None
            if edit is not None and not edit.hasAcceptableInput():
                bad.append(name)
        return bad

    def is_valid(self) -> bool:
        return not self.invalid()

    def values(self) -> dict[str, str]:
        """Every field as the text ``--set`` takes."""
        return {f["name"]: self._raw(f) for f in self.fields}

    def overrides(self) -> dict[str, str]:
        """Only the fields that differ from the template's defaults."""
        out = {}
        for f in self.fields:
            raw = self._raw(f)
            if not self.same_as(f, raw, f["default"]):
                out[f["name"]] = raw
        return out

    def same_as(self, f: dict, raw: str, default) -> bool:
        """Whether the text ``raw`` means ``default`` for field ``f``."""
        try:
            if f["type"] == "floats":
                parts = [float(p) for p in raw.split(",") if p.strip()]
                return len(parts) == len(default) and all(
                    math.isclose(a, b, rel_tol=1e-9) for a, b in zip(parts, default))
            if f["type"] == "float":
                return math.isclose(float(raw), float(default), rel_tol=1e-9, abs_tol=1e-15)
        except ValueError:
            return False
        return raw == self._text(f, default)
