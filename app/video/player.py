"""Playback controller: decodes off the GUI thread, latest request wins.

``VideoPlayer.open(path)`` checks the file (VideoError with the reason if broken)
and hands its ``VideoReader`` to a worker on a ``QThread``; from then on only that
thread decodes. ``request(n)`` never blocks: it records n as the wanted frame and
wakes the worker, which always decodes the newest wanted frame, so requests that
pile up while it is busy are dropped. Each decoded frame arrives as
``frame_ready(index, QImage)`` followed by ``frame_shown(index)``.

Playing, a timer at the video's frame rate computes which frame is due from the
wall clock and asks for it only when the previous one has arrived: if decoding
falls behind, frames are skipped and the newest one is shown, nothing queues up.
"""

from __future__ import annotations

import threading
import time

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Qt, Signal, Slot
from PySide6.QtGui import QImage

from app.store.video import VideoError, VideoReader


def to_qimage(frame: np.ndarray) -> QImage:
    """A BGR (or grey) uint8 array as a QImage that owns a copy of the pixels."""
    frame = np.ascontiguousarray(frame)
    h, w = frame.shape[:2]
    if frame.ndim == 2:
        fmt = QImage.Format.Format_Grayscale8
    else:
        fmt = QImage.Format.Format_BGR888
    return QImage(frame.data, w, h, frame.strides[0], fmt).copy()


class _Worker(QObject):
    decoded = Signal(int, int, QImage)   # generation, index, image
    failed = Signal(int, int, str)

    def __init__(self, reader: VideoReader, generation: int):
        super().__init__()
        self.reader = reader
        self.generation = generation
        self._lock = threading.Lock()
        self._wanted: int | None = None

    def want(self, index: int) -> None:
        """Called from the GUI thread: replaces any frame not yet started."""
        with self._lock:
            self._wanted = index

    @Slot()
    def run(self) -> None:
        with self._lock:
            index, self._wanted = self._wanted, None
        if index is None:
            return  # a newer wake-up already took it
        try:
            image = to_qimage(self.reader.frame(index))
        except (VideoError, IndexError) as exc:
            self.failed.emit(self.generation, index, str(exc))
            return
        self.decoded.emit(self.generation, index, image)


class VideoPlayer(QObject):
    frame_ready = Signal(int, QImage)   # index, decoded image (owns its pixels)
    frame_shown = Signal(int)           # the frame now displayed
    playing_changed = Signal(bool)
    error = Signal(str)                 # a frame could not be decoded (reason)
    _wake = Signal()

    def __init__(self, parent: QObject | None = None, cache_frames: int = 64):
        super().__init__(parent)
        self.cache_frames = cache_frames
        self.path = None
        self.fps = 25.0
        self.frame_count = 0
        self.size = (0, 0)
        self.current = -1          # last frame shown
        self.requested = -1        # last frame asked for
        self.playing = False
        self._answered = -1        # last frame the worker delivered (or failed on)
        self._generation = 0       # answers from a closed video's worker are ignored
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._origin = (0, 0.0)    # (frame, monotonic time) playback is counted from

    # -- opening -------------------------------------------------------------------
    def open(self, path) -> None:
        """Open a video (VideoError if broken; the player then stays closed) and show frame 0."""
        self.close()
        reader = VideoReader(path, cache_frames=self.cache_frames)
        self.path, self.fps, self.frame_count, self.size = reader.path, reader.fps, \
            reader.frame_count, reader.size
        self._thread = QThread(self)
        self._thread.setObjectName("video-decode")
        self._generation += 1
        self._worker = _Worker(reader, self._generation)
        self._worker.moveToThread(self._thread)
        self._wake.connect(self._worker.run, Qt.ConnectionType.QueuedConnection)
        self._worker.decoded.connect(self._delivered, Qt.ConnectionType.QueuedConnection)
        self._worker.failed.connect(self._failed, Qt.ConnectionType.QueuedConnection)
        self._thread.start()
        self.request(0)

    def close(self) -> None:
        self.set_playing(False)
        if self._thread is not None:
            self._wake.disconnect(self._worker.run)
            self._thread.quit()
            self._thread.wait()
            self._worker.reader.close()
            self._worker.deleteLater()
            self._thread.deleteLater()
        self._thread = self._worker = None
        self.current = self.requested = self._answered = -1
        self.frame_count = 0

    @property
    def is_open(self) -> bool:
        return self._worker is not None

    # -- frames --------------------------------------------------------------------
    def request(self, index: int) -> None:
        """Ask for frame ``index`` (clamped); a later request replaces this one."""
        if self._worker is None:
            return
        index = max(0, min(int(index), self.frame_count - 1))
        if self.playing:
            self._origin = (index, time.monotonic())
        self._submit(index)

    def _submit(self, index: int) -> None:
        self.requested = index
        self._worker.want(index)
        self._wake.emit()

    @property
    def busy(self) -> bool:
        """A requested frame has not arrived yet."""
        return self._worker is not None and self._answered != self.requested

    @Slot(int, int, QImage)
    def _delivered(self, generation: int, index: int, image: QImage) -> None:
        if generation != self._generation or self._worker is None:
            return
        self._answered = self.current = index
        self.frame_ready.emit(index, image)
        self.frame_shown.emit(index)
        if self.playing and index >= self.frame_count - 1:
            self.set_playing(False)

    @Slot(int, int, str)
    def _failed(self, generation: int, index: int, message: str) -> None:
        if generation != self._generation or self._worker is None:
            return
        self._answered = index
        self.set_playing(False)
        self.error.emit(message)

    # -- playback ------------------------------------------------------------------
    def set_playing(self, playing: bool) -> None:
        playing = bool(playing) and self._worker is not None
        if playing == self.playing:
            return
        if playing:
            start = max(self.current, 0)
            if start >= self.frame_count - 1:
                start = 0                      # play again from the start
                self._submit(0)
            self._origin = (start, time.monotonic())
            self._timer.start(max(1, int(1000 / self.fps / 2)))  # twice per frame: less jitter
        else:
            self._timer.stop()
        self.playing = playing
        self.playing_changed.emit(playing)

    def toggle(self) -> None:
        self.set_playing(not self.playing)

    def _tick(self) -> None:
        frame, t0 = self._origin
        due = min(self.frame_count - 1, frame + int((time.monotonic() - t0) * self.fps))
        # Ask only when the last frame has landed: behind, we skip to the newest.
        if due > self.requested and not self.busy:
            self._submit(due)

    def bind(self, timeline) -> None:
        """Wire a ``widgets.timeline.Timeline`` both ways."""
        timeline.set_video(self.frame_count, self.fps)
        timeline.frame_requested.connect(self.request)
        timeline.play_toggled.connect(self.set_playing)
        self.frame_shown.connect(timeline.set_frame)
        self.playing_changed.connect(timeline.set_playing)
