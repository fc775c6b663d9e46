"""The Search tab's filter row, its vector-store field and the "label the selected
results" row. Pure views: plain data in (names, ids), intents out.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QWidget)

ANY = "Any"
SPLITS = [("Any split", None), ("train", "train"), ("val", "val"), ("test", "test"),
          ("no split", "none")]
STATUS = [("Labelled or not", None), ("Labelled", True), ("Unlabelled", False)]
MEDIA = [("Images and videos", None), ("Images", "image"), ("Videos", "video")]


def _fill(combo: QComboBox, items: list[tuple[str, object]]) -> None:
    """Refill a combo with (text, data), keeping the chosen data when it is still there."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for text, data in items:
        combo.addItem(text, data)
    i = combo.findData(current) if current is not None else 0
    combo.setCurrentIndex(max(i, 0))
    combo.blockSignals(False)


class SearchFilters(QWidget):
    """Tag, class, split, labelled or not, media kind. ``changed`` on any choice."""
    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.tag, self.cls = QComboBox(), QComboBox()
        self.split, self.status, self.media = QComboBox(), QComboBox(), QComboBox()
        for combo, items in ((self.split, SPLITS), (self.status, STATUS), (self.media, MEDIA)):
            _fill(combo, items)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("Only"), 0, 0)
        for col, combo in enumerate((self.tag, self.cls, self.split), 1):
            grid.addWidget(combo, 0, col)
        grid.addWidget(self.status, 1, 1)
        grid.addWidget(self.media, 1, 2)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Search everything again")
        self.clear_button.clicked.connect(self.clear)
        grid.addWidget(self.clear_button, 1, 3)
        for combo in (self.tag, self.cls, self.split, self.status, self.media):
            combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.set_choices([], [])

    def set_choices(self, tags: list[str], classes: list[str]) -> None:
        _fill(self.tag, [("Any tag", None)] + [(t, t) for t in tags])
        _fill(self.cls, [("Any class", None)] + [(c, c) for c in classes])

    def values(self) -> dict:
        """Keyword arguments for the app's filter builder (None: any)."""
        return {"tag": self.tag.currentData(), "cls": self.cls.currentData(),
                "split": self.split.currentData(), "labelled": self.status.currentData(),
                "media": self.media.currentData()}

    def clear(self) -> None:
        combos = (self.tag, self.cls, self.split, self.status, self.media)
        if any(c.currentIndex() for c in combos):
            for c in combos:
                c.blockSignals(True)
                c.setCurrentIndex(0)
                c.blockSignals(False)
            self.changed.emit()


class StoreField(QWidget):
    """Where vectors are searched: ``embedded``, ``qdrant://local`` or a server URL,
    with an API key that is used for this session only."""
    store_requested = Signal(str, str)      # spec, API key

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.spec = QLineEdit()
        self.spec.setPlaceholderText("embedded")
        self.spec.setToolTip("embedded (default: the project file), qdrant://local (a folder in "
                             "the project), qdrant://HOST:6333 or qdrant+https://HOST (a server)")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.Password)
        self.key.setPlaceholderText("API key")
        self.key.setToolTip("Qdrant server API key: kept for this session, never saved "
                            "(or set QDRANT_API_KEY)")
        self.use_button = QPushButton("Use")
        self.use_button.clicked.connect(self._use)
        self.spec.returnPressed.connect(self._use)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Store"))
        row.addWidget(self.spec, 3)
        row.addWidget(self.key, 1)
        row.addWidget(self.use_button)

    def set_spec(self, text: str) -> None:
        self.spec.setText("" if text == "embedded" else text)

    def _use(self) -> None:
        self.store_requested.emit(self.spec.text().strip() or "embedded", self.key.text())


class LabelRow(QWidget):
    """Tag the selected results' media, or set the class of the selected boxes."""
    tag_requested = Signal(int)        # tag id
    class_requested = Signal(int)      # class id
    select_all_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.selected = QLabel("")
        self.all_button = QPushButton("Select all")
        self.all_button.clicked.connect(self.select_all_requested)
        self.tags, self.classes = QComboBox(), QComboBox()
        self.tag_button = QPushButton("Tag")
        self.tag_button.setToolTip("Give the chosen tag to the media of every selected result "
                                   "(one undo step)")
        self.tag_button.clicked.connect(lambda: self._emit(self.tags, self.tag_requested))
        self.class_button = QPushButton("Set class")
        self.class_button.setToolTip("Give the chosen class to every selected box result "
                                     "(one undo step)")
        self.class_button.clicked.connect(lambda: self._emit(self.classes, self.class_requested))
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.selected, 0, 0)
        grid.addWidget(self.all_button, 1, 0)
        grid.addWidget(self.tags, 0, 1)
        grid.addWidget(self.tag_button, 0, 2)
        grid.addWidget(self.classes, 1, 1)
        grid.addWidget(self.class_button, 1, 2)
        self.set_selection(0, 0)

    def set_choices(self, tags: list[tuple[int, str]], classes: list[tuple[int, str]]) -> None:
        _fill(self.tags, [(name, i) for i, name in tags])
        _fill(self.classes, [(name, i) for i, name in classes])
        self._enable()

    def set_selection(self, results: int, boxes: int) -> None:
        self._counts = (results, boxes)
        self.selected.setText(f"{results} selected" + (f" ({boxes} boxes)" if boxes else ""))
        self._enable()

    def _enable(self) -> None:
        results, boxes = self._counts
        self.tag_button.setEnabled(results > 0 and self.tags.count() > 0)
        self.class_button.setEnabled(boxes > 0 and self.classes.count() > 0)

    @staticmethod
    def _emit(combo: QComboBox, signal) -> None:
        if combo.currentData() is not None:
            signal.emit(int(combo.currentData()))
