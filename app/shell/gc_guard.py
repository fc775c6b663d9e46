"""Python's cyclic garbage collector runs on the GUI thread only.

The collector runs in whichever thread happens to allocate past its threshold: a
model loading or a dataset exporting on a worker thread would then free cycles that
hold Qt objects of the GUI thread (a closed dialog, a controller and its signals)
from that worker, and the GUI thread crashes later on the freed object. With
automatic collection off, a timer on the GUI thread collects instead (the generation
thresholds are kept, so collections are as frequent as Python's own). Reference
counting still frees everything without cycles at once, on any thread.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 250


class MainThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations past their threshold, as the automatic collector would."""
        count0, count1, count2 = gc.get_count()
        if count0 > self.threshold[0]:
            gc.collect(0)
            if count1 > self.threshold[1]:
                gc.collect(1)
                if count2 > self.threshold[2]:
                    gc.collect(2)

    def stop(self) -> None:
        self.timer.stop()
        gc.enable()


_collector: MainThreadCollector | None = None


def collect_on_gui_thread(app) -> MainThreadCollector:
    """Install the collector once per application (idempotent)."""
    global _collector
    if _collector is None:
        _collector = MainThreadCollector(app)
    return _collector
