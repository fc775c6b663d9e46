"""One trainer child process under asyncio (qasync in the window): JSON events from
its stdout and log lines from its stderr are handed to callbacks as they arrive;
cancelling interrupts it (the trainer saves and emits ``cancelled``) and escalates
to SIGTERM and SIGKILL if it does not exit in time. Qt-free on purpose.

The interrupt is SIGINT on POSIX. On Windows ``send_signal(SIGINT)`` raises, so the
trainer is started in its own process group and gets CTRL_BREAK_EVENT, which
Python delivers to it as SIGBREAK (the trainer treats it as SIGINT)."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
from typing import Callable

from training.events import EventError, is_terminal, parse_event

LINE_LIMIT = 16 * 2**20   # a failed event carries a whole traceback on one line
LOG_FLUSH_S = 0.1         # stderr lines reach the log view in small batches


def spawn_options() -> dict:
    """Windows: a process group of its own, so that CTRL_BREAK_EVENT reaches only it."""
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {}


def interrupt(proc) -> None:
    """Ask the trainer to stop after its current step (it saves a checkpoint)."""
    proc.send_signal(signal.CTRL_BREAK_EVENT if os.name == "nt" else signal.SIGINT)


class TrainerProcess:
    def __init__(self, argv: list[str], env: dict[str, str], *,
                 on_event: Callable[[dict], None], on_log: Callable[[list[str]], None],
                 cancel_grace_s: float = 20.0):
        self.argv, self.env = argv, env
        self.on_event, self.on_log = on_event, on_log
        self.cancel_grace_s = cancel_grace_s
        self.proc: asyncio.subprocess.Process | None = None
        self.terminal: dict | None = None
        self.cancelling = False
        self.tail: collections.deque[str] = collections.deque(maxlen=60)
        self._pending: list[str] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._escalation: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def run(self) -> int:
        """Start the child, read it to the end; returns its exit code (127: not started)."""
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=self.env, limit=LINE_LIMIT,
                **spawn_options())
        except OSError as exc:
            self._log(f"cannot start the trainer: {exc}")
            self._flush()
            return 127
        if self.cancelling:  # Cancel was pressed while the child was being started
            self.cancelling = False
            self.cancel()
        await asyncio.gather(self._read_stdout(self.proc.stdout), self._read_stderr(self.proc.stderr))
        code = await self.proc.wait()
        self._flush()
        if self._escalation is not None:
            self._escalation.cancel()
        return code

    async def _read_stdout(self, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # longer than LINE_LIMIT: skip it, keep reading
                self._log("(an over-long line from the trainer was dropped)")
                continue
            if not line:
                return
            try:
                event = parse_event(line)
            except EventError:
                self._log(line.decode("utf-8", "replace"))  # stray prints, not events
                continue
            if is_terminal(event):
                self.terminal = event
            self.on_event(event)

    async def _read_stderr(self, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await stream.readline()
            except ValueError:
                continue
            if not line:
                return
            self._log(line.decode("utf-8", "replace"))

    def _log(self, text: str) -> None:
        text = text.rstrip("\r\n")
        self.tail.append(text)
        self._pending.append(text)
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(LOG_FLUSH_S, self._flush)

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        lines, self._pending = self._pending, []
        if lines:
            self.on_log(lines)

    def cancel(self) -> bool:
        """Ask the trainer to stop (SIGINT); escalate after ``cancel_grace_s``."""
        if self.proc is None and not self.cancelling:  # not started yet: stop on arrival
            self.cancelling = True
            return True
        if not self.running or self.cancelling:
            return False
        self.cancelling = True
        interrupt(self.proc)
        self._escalation = asyncio.ensure_future(self._escalate())
        return True

    async def _escalate(self) -> None:
        proc = self.proc
        try:
            await asyncio.wait_for(asyncio.shield(proc.wait()), self.cancel_grace_s)
            return
        except asyncio.TimeoutError:
            pass
        self._log(f"the trainer did not stop within {self.cancel_grace_s:.0f} s: terminating it")
        if proc.returncode is None:
            proc.terminate()
        try:
            await asyncio.wait_for(asyncio.shield(proc.wait()), 5.0)
        except asyncio.TimeoutError:
            if proc.returncode is None:
                proc.kill()
