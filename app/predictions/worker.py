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
from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

from app.store.pictures import read_rgb


_STOPPING: set = set()   # (thread, engine) of stopped workers until their thread ends


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


class _Engine(QObject):
    answered = Signal(object, object, float)   # Request, detections, seconds of inference
    failed = Signal(object, str)
    ready = Signal(list)                       # the model's class names

    def __init__(self, factory: Callable[[], Any]):
        super().__init__()
        self.factory = factory
        self.model = None
        self.lock = threading.Lock()
        self.pending: Request | None = None

    @Slot()
    def work(self) -> None:
        while True:
            with self.lock:
                req, self.pending = self.pending, None
            if req is None:
                return
            try:
                if self.model is None:
                    self.model = self.factory()
                    self.ready.emit(list(self.model.class_names))
                frame = load_pixels(req.pixels)
                t0 = time.perf_counter()
                det = self.model.predict([frame])[0]
                self.answered.emit(req, det, time.perf_counter() - t0)
            except Exception as exc:  # a bad model or frame must not end the thread
                self.failed.emit(req, f"{type(exc).__name__}: {exc}")


class PredictWorker(QObject):
    answered = Signal(object, object, float)
    failed = Signal(object, str)
    ready = Signal(list)
    _wake = Signal()

    def __init__(self, factory: Callable[[], Any], parent: QObject | None = None):
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("kestrel-predict")
        self._engine = _Engine(factory)
        self._engine.moveToThread(self._thread)
        self._wake.connect(self._engine.work)
        self._engine.answered.connect(self.answered)
        self._engine.failed.connect(self.failed)
        self._engine.ready.connect(self.ready)
        self._thread.start()
        self._next_id = 0
        self.dropped = 0          # requests replaced before the model started them

    def submit(self, media_id: int, frame: int, pixels) -> Request:
        self._next_id += 1
        req = Request(self._next_id, media_id, frame, pixels)
        with self._engine.lock:
            if self._engine.pending is not None:
                self.dropped += 1
            self._engine.pending = req
        self._wake.emit()
        return req

    def stop(self) -> None:
        """Drop what is pending and let the thread end after the frame in hand; never
        waits (a model call can take seconds). The thread is kept referenced until it
        has finished, so it is never destroyed while running."""
        with self._engine.lock:
            self._engine.pending = None
        for signal in (self._engine.answered, self._engine.failed, self._engine.ready):
            signal.disconnect()
        thread, engine = self._thread, self._engine
        _STOPPING.add((thread, engine))
        thread.finished.connect(lambda: _STOPPING.discard((thread, engine)))
        thread.quit()
