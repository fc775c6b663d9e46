"""The model on its own thread: one pending request, latest wins.

``submit`` replaces any request the model has not started (that one is dropped, never
queued), so the model always works on the newest frame and the GUI never waits. The
model is built by ``factory`` on the worker thread at the first request: torch is
imported there, lazily, never at window start-up.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.store.pictures import read_rgb
from app.tasks.thread import ThreadJob


@dataclass
class Request:
    id: int
    media_id: int
    frame: int
    pixels: Any          # a QImage (video frames, shared copy-on-write) or a file path (images)


def qimage_to_rgb(image: QImage) -> np.ndarray:
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = img.height(), img.width()
    a = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * h)
    return a.reshape(h, img.bytesPerLine())[:, :w * 3].reshape(h, w, 3).copy()


def load_pixels(pixels) -> np.ndarray:
    if isinstance(pixels, QImage):
        return qimage_to_rgb(pixels)
    return read_rgb(pixels)


class PredictWorker(ThreadJob):
    """The model's thread: a daemon that sleeps until a request is pending, answers
    it, and takes the newest one next. Answers arrive on the GUI thread (queued)."""

    answered = Signal(object, object, float)   # Request, detections, seconds of inference
    failed = Signal(object, str)
    ready = Signal(list)                       # the model's class names

    def __init__(self, factory: Callable[[], Any], parent: QObject | None = None):
        super().__init__("kestrel-predict", parent)
        self.factory = factory
        self.model = None
        self.cond = threading.Condition()
        self.pending: Request | None = None
        self._next_id = 0
        self.dropped = 0          # requests replaced before the model started them
        self.start()

    def submit(self, media_id: int, frame: int, pixels) -> Request:
        self._next_id += 1
        req = Request(self._next_id, media_id, frame, pixels)
        with self.cond:
            if self.pending is not None:
                self.dropped += 1
            self.pending = req
            self.cond.notify()
        return req

    def stop(self) -> None:
        """Drop what is pending and let the thread end after the frame in hand; never
        waits (a model call can take seconds) and reports nothing more."""
        with self.cond:
            self.pending = None
            self.detach()
            self.cond.notify()

    def run(self) -> None:
        while True:
            with self.cond:
                while self.pending is None and not self.detached:
                    self.cond.wait()
                if self.detached:
                    return
                req, self.pending = self.pending, None
            try:
                if self.model is None:
                    self.model = self.factory()
                    self.emit(self.ready, list(self.model.class_names))
                frame = load_pixels(req.pixels)
                t0 = time.perf_counter()
                det = self.model.predict([frame])[0]
                self.emit(self.answered, req, det, time.perf_counter() - t0)
            except Exception as exc:  # a bad model or frame must not end the thread
                self.emit(self.failed, req, f"{type(exc).__name__}: {exc}")
