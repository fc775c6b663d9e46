"""A child process that answers in JSON lines on stdout, followed from the GUI thread
with QProcess (no thread of ours, nothing waits): the Label next scoring job and the
evaluations of keep training. Every line is one ``event``; stderr is kept as the tail
a failure is reported with. ``cancel`` asks it to stop (SIGTERM: the scoring job
stops between batches and keeps what it did) and kills it if it has not ended after
``grace_ms``.
"""

from __future__ import annotations

import json
from collections import deque

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal


class JsonProcess(QObject):
    event = Signal(dict)          # one JSON line of stdout
    ended = Signal(int, str)      # exit code, the end of stderr

    def __init__(self, parent: QObject | None = None, grace_ms: int = 5000):
        super().__init__(parent)
        self.grace_ms = grace_ms
        self.process: QProcess | None = None
        self.tail: deque[str] = deque(maxlen=20)
        self._buffer = b""

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        if self.running():
            raise RuntimeError("the process is already running")
        self.tail.clear()
        self._buffer = b""
        p = self.process = QProcess(self)
        if env is not None:
            e = QProcessEnvironment()
            for k, v in env.items():
                e.insert(k, v)
            p.setProcessEnvironment(e)
        p.readyReadStandardOutput.connect(self._stdout)
        p.readyReadStandardError.connect(self._stderr)
        p.finished.connect(self._finished)
        p.errorOccurred.connect(self._error)
        p.start(argv[0], argv[1:])

    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.NotRunning

    def cancel(self) -> None:
        if self.running():
            self.process.terminate()
            p = self.process
            QTimer.singleShot(self.grace_ms, lambda: p.state() != QProcess.NotRunning and p.kill())

    def detach(self) -> None:
        """The owner is going away: stop the child, report nothing more."""
        if self.process is not None:
            for sig in (self.process.readyReadStandardOutput, self.process.finished,
                        self.process.errorOccurred, self.process.readyReadStandardError):
                try:
                    sig.disconnect()
                except (RuntimeError, TypeError):
                    pass
            if self.process.state() != QProcess.NotRunning:
                self.process.kill()

    def _stdout(self) -> None:
        self._buffer += bytes(self.process.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            try:
                obj = json.loads(line)
            except ValueError:
                self.tail.append(line.decode("utf-8", "replace"))
                continue
            if isinstance(obj, dict):
                self.event.emit(obj)

    def _stderr(self) -> None:
        text = bytes(self.process.readAllStandardError()).decode("utf-8", "replace")
        self.tail.extend(line for line in text.splitlines() if line.strip())

    def _finished(self, code: int, _status) -> None:
        self._stdout()
        if self._buffer.strip():
            self._buffer += b"\n"
            self._stdout()
        self.ended.emit(code, "\n".join(self.tail))

    def _error(self, error) -> None:
        if error == QProcess.FailedToStart:
            self.ended.emit(127, f"cannot start {self.process.program()}: "
                                 f"{self.process.errorString()}")
