"""Live predictions for whatever is on screen, cached in the store per run/media/frame.

``show(media, frame, pixels)`` is called for every image or video frame displayed.
A cached frame is answered at once from the store; otherwise the frame goes to the
worker (latest wins). An answer is always stored, but shown only if it is for the
frame on screen. While a video plays, a frame without its own answer shows the most
recent answer of the same video if it is at most ``STALE_SECONDS`` older, marked
stale (dimmed, "stale" in the head-up line): blank flicker between answers would
hide more than it tells. Anything older is not shown.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from app.predictions.core import class_ids_for, missing_classes, to_rows
from app.predictions.worker import PredictWorker, Request

STALE_SECONDS = 0.5


class LivePredictions(QObject):
    shown = Signal(int, int, list, bool)    # media id, frame, [Box], stale
    stats_changed = Signal(str)             # "model 4.8 fps · 205 ms"
    failed = Signal(str)
    missing_classes = Signal(list)          # model classes the project lacks (left out)
    stored = Signal(int, int)               # media id, frame: a new answer is in the store

    def __init__(self, project, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.run_id: int | None = None
        self.worker: PredictWorker | None = None
        self.current: tuple[int, int] | None = None
        self.fps = 25.0
        self.stale_answers = 0          # answers that came back for a frame no longer shown
        self._last: tuple[int, int] | None = None   # newest frame with an answer
        self._class_ids: list[int | None] | None = None
        self.class_names: list[str] = []        # the active model's, once it has loaded
        self._done: deque[float] = deque(maxlen=20)
        self._latency = 0.0
        self._asked: tuple[int, int] | None = None

    def set_model(self, run_id: int | None, factory: Callable[[], Any] | None) -> None:
        """Use run ``run_id``'s model (``factory`` builds it on the worker thread)."""
        self.stop()
        self.run_id, self._class_ids, self._last, self._asked = run_id, None, None, None
        self.class_names = []
        self._done.clear()
        if run_id is not None and factory is not None:
            self.worker = PredictWorker(factory, self)
            self.worker.answered.connect(self._answered)
            self.worker.failed.connect(self._failed)
            self.worker.ready.connect(self._ready)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker.deleteLater()
            self.worker = None

    @property
    def active(self) -> bool:
        return self.run_id is not None

    def show(self, media_id: int, frame: int, pixels, fps: float | None = None) -> None:
        self.current = (media_id, frame)
        if fps:
            self.fps = fps
        if self.run_id is None:
            return
        if self.project.predictions.has(self.run_id, media_id, frame):
            self._emit(media_id, frame, stale=False)
            return
        if self.worker is not None and self._asked != (media_id, frame):
            self._asked = (media_id, frame)   # the same frame shown twice is asked once
            self.worker.submit(media_id, frame, pixels)
        last = self._last
        if last and last[0] == media_id and 0 < frame - last[1] <= STALE_SECONDS * self.fps:
            self._emit(media_id, last[1], stale=True)
        else:
            self.shown.emit(media_id, frame, [], False)

    def refresh(self) -> None:
        """Show the current frame again from the store (threshold, run or labels changed)."""
        if self.current is not None and self.run_id is not None:
            m, f = self.current
            if self.project.predictions.has(self.run_id, m, f):
                self._emit(m, f, stale=False)
            else:
                self.shown.emit(m, f, [], False)

    def _emit(self, media_id: int, frame: int, stale: bool) -> None:
        self.shown.emit(media_id, frame, self.project.predictions.boxes(self.run_id, media_id, frame), stale)

    def _ready(self, class_names: list) -> None:
        self.class_names = list(class_names)
        self.remap()
        missing = missing_classes(self.project, self.class_names)
        if missing:
            self.missing_classes.emit(missing)

    def remap(self) -> None:
        """Match the model's classes to the project's again (a class was added or renamed)."""
        if self.class_names:
            self._class_ids = class_ids_for(self.project, self.class_names)

    def _answered(self, req: Request, det, seconds: float) -> None:
        if self.run_id is None or self.worker is None or self.sender() is not self.worker:
            return  # an answer from a model no longer in use
        if self._class_ids is None:
            self.class_names = list(det.class_names)
            self._class_ids = class_ids_for(self.project, self.class_names)
        self.project.predictions.store(self.run_id, req.media_id, req.frame,
                                       to_rows(det, self._class_ids))
        self.stored.emit(req.media_id, req.frame)
        now = time.monotonic()
        self._done.append(now)
        self._latency = seconds
        span = self._done[-1] - self._done[0]
        rate = (len(self._done) - 1) / span if span > 0 else 0.0
        self.stats_changed.emit(f"model {rate:.1f} fps · {seconds * 1000:.0f} ms")
        if (req.media_id, req.frame) == self.current:
            self._last = self.current
            self._emit(req.media_id, req.frame, stale=False)
        else:
            self.stale_answers += 1   # stored for later, not drawn on another frame
            cur = self.current
            if cur and req.media_id == cur[0] and 0 < cur[1] - req.frame <= STALE_SECONDS * self.fps \
                    and not self.project.predictions.has(self.run_id, *cur):
                self._last = (req.media_id, req.frame)
                self._emit(req.media_id, req.frame, stale=True)

    def _failed(self, req: Request, message: str) -> None:
        self._asked = None
        self.failed.emit(message)
