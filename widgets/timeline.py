"""Video timeline: scrubber with label markers, frame/time readout, jump field, transport.

Shows plain data (frame count, fps, current frame, marker frames) and emits intents:
``frame_requested(int)`` when the user wants another frame, ``play_toggled(bool)``
when the user wants playback on or off. The owner answers with ``set_frame`` and
``set_playing``; the timeline never changes its own frame on a click, so what it
shows is always what the player really displays.
"""

from __future__ import annotations

from typing import Iterable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPen, QPolygonF, QShortcut
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QSpinBox, QStyle, QToolButton, QVBoxLayout,
                               QWidget)

BOX_COLOR = QColor("#4e79a7")
KEY_COLOR = QColor("#f28e2b")
HEAD_COLOR = QColor("#e15759")
TRACK_COLOR = QColor("#3a3a3a")


def format_time(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes):02d}:{rest:06.3f}"


class ScrubBar(QWidget):
    """Custom-painted bar: frames with boxes as a band, keyframes as ticks, a playhead.

    Click or drag emits ``frame_requested``.
    """

    frame_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumHeight(28)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # so the keys reach the shortcuts
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.count = 0
        self.current = 0
        self.box_frames: list[int] = []
        self.keyframes: list[int] = []

    def sizeHint(self) -> QSize:
        return QSize(400, 32)

    def frame_at(self, x: float) -> int:
        if self.count <= 1:
            return 0
        usable = max(1.0, self.width() - 1.0)
        return max(0, min(self.count - 1, round(x / usable * (self.count - 1))))

    def x_of(self, frame: int) -> float:
        if self.count <= 1:
            return 0.0
        return frame / (self.count - 1) * (self.width() - 1.0)

    def _columns(self, frames: Iterable[int]) -> list[int]:
        """Distinct pixel columns for frames: 100k markers paint as fast as 1,000."""
        return sorted({int(self.x_of(f)) for f in frames if 0 <= f < self.count})

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        h, w = self.height(), self.width()
        p.fillRect(0, 0, w, h, TRACK_COLOR)
        if self.count > 0:
            band = QColor(BOX_COLOR)
            for x in self._columns(self.box_frames):
                p.fillRect(x, 4, max(1, int(w / self.count)), h - 8, band)
            p.setPen(QPen(KEY_COLOR, 1))
            p.setBrush(KEY_COLOR)
            for x in self._columns(self.keyframes):
                p.drawPolygon(QPolygonF([QPointF(x, h - 9), QPointF(x + 4, h - 4),
                                         QPointF(x, h + 1), QPointF(x - 4, h - 4)]))
            x = self.x_of(self.current)
            p.setPen(QPen(HEAD_COLOR, 2))
            p.drawLine(QPointF(x, 0), QPointF(x, h))
            p.setBrush(HEAD_COLOR)
            p.drawRect(QRectF(x - 3, 0, 6, 5))
        p.end()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.count:
            self.frame_requested.emit(self.frame_at(event.position().x()))

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton and self.count:
            frame = self.frame_at(event.position().x())
            if frame != self.current:
                self.frame_requested.emit(frame)


class Timeline(QWidget):
    frame_requested = Signal(int)
    play_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.fps = 25.0
        self.count = 0
        self.current = 0
        self.playing = False
        self.bar = ScrubBar(self)
        self.bar.frame_requested.connect(self.frame_requested)
        self.play_button = self._button(QStyle.StandardPixmap.SP_MediaPlay, "Play / pause (Space)",
                                        checkable=True)
        self.play_button.clicked.connect(self._play_clicked)
        self.back_button = self._button(QStyle.StandardPixmap.SP_MediaSkipBackward,
                                        "Previous frame (Left; Shift+Left: 10)")
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.forward_button = self._button(QStyle.StandardPixmap.SP_MediaSkipForward,
                                           "Next frame (Right; Shift+Right: 10)")
        self.forward_button.clicked.connect(lambda: self.step(1))
        self.jump = QSpinBox(self)
        self.jump.setToolTip("Go to frame")
        self.jump.setKeyboardTracking(False)
        self.jump.setAccelerated(True)
        self.jump.valueChanged.connect(self._jump)  # arrows, or Enter (no keyboard tracking)
        self.readout = QLabel(self)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info = QLabel(self)      # e.g. the model's rate while the video plays
        self.info.setStyleSheet("color: #9aa0a6;")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.back_button, self.play_button, self.forward_button, self.jump):
            row.addWidget(w)
        row.addWidget(self.readout, 1)
        row.addWidget(self.info)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addWidget(self.bar)
        layout.addLayout(row)
        self.set_video(0, 25.0)

    def _button(self, icon: QStyle.StandardPixmap, tip: str, checkable: bool = False) -> QToolButton:
        b = QToolButton(self)
        b.setIcon(self.style().standardIcon(icon))
        b.setToolTip(tip)
        b.setCheckable(checkable)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays with the shortcut
        return b

    # -- state from the owner ------------------------------------------------------
    def set_video(self, frame_count: int, fps: float) -> None:
        self.count = max(0, int(frame_count))
        self.fps = fps if fps and fps > 0 else 25.0
        self.bar.count = self.count
        self.jump.blockSignals(True)
        self.jump.setRange(0, max(0, self.count - 1))
        self.jump.blockSignals(False)
        for w in (self.bar, self.play_button, self.back_button, self.forward_button, self.jump):
            w.setEnabled(self.count > 0)
        self.set_playing(False)
        self.set_markers([], [])
        self.set_frame(0)

    def set_frame(self, index: int) -> None:
        self.current = max(0, min(int(index), max(0, self.count - 1)))
        self.bar.current = self.current
        self.jump.blockSignals(True)
        self.jump.setValue(self.current)
        self.jump.blockSignals(False)
        if self.count:
            self.readout.setText(f"frame {self.current} / {self.count - 1}   "
                                 f"{format_time(self.current / self.fps)} / "
                                 f"{format_time((self.count - 1) / self.fps)}   {self.fps:g} fps")
        else:
            self.readout.setText("no video")
        self.bar.update()

    def set_markers(self, box_frames: Iterable[int], keyframes: Iterable[int]) -> None:
        self.bar.box_frames = sorted(box_frames)
        self.bar.keyframes = sorted(keyframes)
        self.bar.update()

    def set_info(self, text: str) -> None:
        """A short note at the right end of the transport row (empty: none)."""
        self.info.setText(text)

    def set_playing(self, playing: bool) -> None:
        self.playing = bool(playing)
        self.play_button.blockSignals(True)
        self.play_button.setChecked(self.playing)
        self.play_button.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPause if self.playing else QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.blockSignals(False)

    # -- user intents --------------------------------------------------------------
    def step(self, delta: int) -> None:
        if self.count:
            target = max(0, min(self.count - 1, self.current + delta))
            if target != self.current:
                self.frame_requested.emit(target)

    def toggle_play(self) -> None:
        if self.count:
            self.play_toggled.emit(not self.playing)

    def _play_clicked(self, checked: bool) -> None:
        self.play_button.setChecked(self.playing)  # stays as is until set_playing
        self.play_toggled.emit(checked)

    def _jump(self) -> None:
        if self.count and self.jump.value() != self.current:
            self.frame_requested.emit(self.jump.value())

    def install_shortcuts(self, window: QWidget) -> list[QShortcut]:
        """Left/Right step one frame (Shift: 10), Space plays/pauses, while focus is
        anywhere inside ``window``. Returns the shortcuts (disable them to suspend)."""
        bindings = [("Left", lambda: self.step(-1)), ("Right", lambda: self.step(1)),
                    ("Shift+Left", lambda: self.step(-10)), ("Shift+Right", lambda: self.step(10)),
                    ("Space", self.toggle_play)]
        shortcuts = []
        for keys, slot in bindings:
            s = QShortcut(QKeySequence(keys), window)
            s.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            s.activated.connect(slot)
            shortcuts.append(s)
        return shortcuts
