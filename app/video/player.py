"""Playback controller: opens and decodes off the GUI thread, latest request wins.

``VideoPlayer.open(path)`` returns at once: a decode thread opens the file (PyAV
demuxes it once to index its frames, which for a long file takes a while) and then
reports ``opened(frame_count, fps)`` or ``open_failed(reason)``. From then on only
that thread decodes. ``request(n)`` never blocks: it records n as the wanted frame
and wakes the thread, which always decodes the newest wanted frame, so requests
that pile up while it is busy are dropped. Each decoded frame arrives as
``frame_ready(index, QImage)`` followed by ``frame_shown(index)``. ``close()``
never waits: the thread finishes the frame in hand, closes its reader and ends;
anything it still reports is recognised as stale (a generation number) and dropped.

Playing, a timer at the video's frame rate computes which frame is due from the
wall clock and asks for it only when the previous one has arrived: if decoding
falls behind, frames are skipped and the newest one is shown, nothing queues up.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, QTimer, Qt, Signal
from PySide6.QtGui import QImage

from app.store.video import VideoError, VideoReader
from widgets.imaging import to_qimage


class _Decoder(threading.Thread):
    """Owns one VideoReader for its whole life; daemon, so it never holds up exit."""

    def __init__(self, path, cache_frames: int, generation: int, post):
        super().__init__(name="kestrel-video-decode", daemon=True)
        self.path, self.cache_frames, self.generation = path, cache_frames, generation
        self.post = post                   # post(kind, generation, *args), thread-safe
        self.reader: VideoReader | None = None
        self.cond = threading.Condition()
        self.wanted: int | None = None
        self.stopped = False

    def want(self, index: int) -> None:
        """Called from the GUI thread: replaces any frame not yet started."""
        with self.cond:
            self.wanted = index
            self.cond.notify()

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify()

    def run(self) -> None:
        try:
            self.reader = VideoReader(self.path, cache_frames=self.cache_frames)
        except VideoError as exc:
            self.post("open_failed", self.generation, str(exc))
            return
        r = self.reader
        self.post("opened", self.generation, r.frame_count, r.fps, r.size)
        try:
            while True:
                with self.cond:
                    while self.wanted is None and not self.stopped:
                        self.cond.wait()
                    if self.stopped:
                        return
                    index, self.wanted = self.wanted, None
                try:
                    image = to_qimage(r.frame(min(index, r.frame_count - 1)))
                except (VideoError, IndexError) as exc:
                    self.post("failed", self.generation, index, str(exc))
                    continue
                self.post("decoded", self.generation, index, image)
        finally:
            r.close()


class VideoPlayer(QObject):
    frame_ready = Signal(int, QImage)   # index, decoded image (owns its pixels)
    frame_shown = Signal(int)           # the frame now displayed
    playing_changed = Signal(bool)
    opened = Signal(int, float)         # frame count, fps: the file is open
    open_failed = Signal(str)           # why it cannot be played
    error = Signal(str)                 # a frame could not be decoded (reason)
    _posted = Signal(str, int, object)  # from the decode thread: kind, generation, args

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
        self.ready = False         # the decode thread has opened the file
        self._answered = -1        # last frame the thread delivered (or failed on)
        self._generation = 0       # answers from a closed video's thread are ignored
        self._decoder: _Decoder | None = None
        self._posted.connect(self._on_posted, Qt.ConnectionType.QueuedConnection)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._origin = (0, 0.0)    # (frame, monotonic time) playback is counted from

    # -- opening -------------------------------------------------------------------
    def open(self, path, frame_count: int | None = None, fps: float | None = None) -> None:
        """Start opening ``path`` and ask for frame 0; ``opened`` or ``open_failed``
        follows. ``frame_count``/``fps`` (from the store's probe) let the timeline
        work before the file is open; the real figures replace them."""
        self.close()
        self.path = path
        self.frame_count, self.fps = frame_count or 0, fps or 25.0
        self._generation += 1
        generation = self._generation

        def post(kind: str, gen: int, *args) -> None:
            try:
                self._posted.emit(kind, gen, args)
            except RuntimeError:
                pass   # the player is gone (window closed): nobody is listening
        self._decoder = _Decoder(path, self.cache_frames, generation, post)
        self._decoder.start()
        self._submit(0)

    def close(self) -> None:
        """Stop playing and let the decode thread end by itself (no waiting)."""
        self.set_playing(False)
        if self._decoder is not None:
            self._decoder.stop()
        self._decoder = None
        self._generation += 1
        self.ready = False
        self.current = self.requested = self._answered = -1
        self.frame_count = 0

    @property
    def is_open(self) -> bool:
        return self._decoder is not None

    # -- frames --------------------------------------------------------------------
    def request(self, index: int) -> None:
        """Ask for frame ``index`` (clamped); a later request replaces this one."""
        if self._decoder is None:
            return
        index = max(0, min(int(index), max(0, self.frame_count - 1)))
        if self.playing:
            self._origin = (index, time.monotonic())
        self._submit(index)

    def _submit(self, index: int) -> None:
        self.requested = index
        self._decoder.want(index)

    @property
    def busy(self) -> bool:
        """A requested frame has not arrived yet."""
        return self._decoder is not None and self._answered != self.requested

    def _on_posted(self, kind: str, generation: int, args: tuple) -> None:
        if generation != self._generation or self._decoder is None:
            return
        if kind == "opened":
            self.frame_count, self.fps, self.size = args[0], args[1], args[2]
            self.ready = True
            self.opened.emit(self.frame_count, self.fps)
        elif kind == "open_failed":
            self._decoder = None
            self.open_failed.emit(args[0])
        elif kind == "decoded":
            index, image = args
            self._answered = self.current = index
            self.frame_ready.emit(index, image)
            self.frame_shown.emit(index)
            if self.playing and index >= self.frame_count - 1:
                self.set_playing(False)
        elif kind == "failed":
            self._answered = args[0]
            self.set_playing(False)
            self.error.emit(args[1])

    # -- playback ------------------------------------------------------------------
    def set_playing(self, playing: bool) -> None:
        playing = bool(playing) and self._decoder is not None and self.ready
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
        self.opened.connect(lambda count, fps: timeline.set_video(count, fps))
