"""Following a run's Ray Job to its end: ``RayJobFollower`` is ``follow_run``'s twin
for cluster runs, with the same callbacks and the same recording path
(``records.record_event``, ``events.jsonl``, ``trainer.log``), so the window's charts,
log and history and ``kestrel train`` cannot tell the two apart.

The job's log is read on a thread of its own (``app.cluster.jobs.JobLogReader``) and
its lines handed to the event loop: trainer events (numbered by the job) are recorded
once each, even when a lost connection makes the log replay, or when a reopened project
follows the run again; checkpoints sent in the log are written into the run folder
before the terminal event is recorded. ``cancel`` stops the job (its driver asks the
workers to stop; rank 0 saves a checkpoint, which comes back); ``detach`` stops
following and leaves the job running, as closing the window does.
"""

from __future__ import annotations

import asyncio
import collections
import re
import threading
from typing import Callable

from app.cluster import jobs
from app.runs import cluster, records
from app.runs.lock import RunLock
from training.cluster import wire
from training.events import is_terminal

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def last_seq(project, run_id: int, job_id: str) -> int:
    """The number of the last event of ``job_id`` already recorded (-1: none)."""
    return max((e["seq"] for e in records.events_of(project, run_id)
                if e.get("job") == job_id and isinstance(e.get("seq"), int)), default=-1)


class RayJobFollower:
    def __init__(self, project, run_id: int, address: str, job_id: str, *,
                 lock: RunLock | None = None,
                 on_event: Callable[[dict], None] | None = None,
                 on_log: Callable[[list[str]], None] | None = None,
                 on_record_error: Callable[[str], None] | None = None):
        self.project, self.run_id = project, run_id
        self.address, self.job_id = address, job_id
        self.lock = lock
        self.on_event, self.on_log, self.on_record_error = on_event, on_log, on_record_error
        self.terminal: dict | None = None
        self.cancelling = False
        self.detached = False
        self.lost = 0                      # connections lost (and found again)
        self.tail: collections.deque[str] = collections.deque(maxlen=60)
        self.reader = jobs.JobLogReader(address, job_id, on_lost=self._lost)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._ended = False

    @property
    def running(self) -> bool:
        return not self._ended

    # -- control (from the event loop's thread) --------------------------------------------
    def cancel(self) -> bool:
        """Stop the job: it saves a checkpoint and ends as cancelled (Ray kills it after
        ``jobs.STOP_WAIT_S`` if it does not)."""
        if self._ended or self.cancelling:
            return False
        self.cancelling = True
        threading.Thread(target=jobs.stop, args=(self.address, self.job_id),
                         name="kestrel-ray-stop", daemon=True).start()
        return True

    def detach(self) -> None:
        """Stop following; the job goes on, and a later follower picks it up."""
        self.detached = True
        self.reader.stop()
        if self._queue is not None:
            self._put(("end", ""))

    # -- following -------------------------------------------------------------------------
    async def run(self) -> str:
        """Follow to the end; the run's final status ("running" when detached)."""
        self._loop, self._queue = asyncio.get_running_loop(), asyncio.Queue()
        run_dir = self.project.resolve(self.project.runs.get(self.run_id).run_dir)
        self._seen = last_seq(self.project, self.run_id, self.job_id)
        self._quiet = self._seen >= 0      # lines already logged before a reopen
        self._files = wire.FileAssembler(run_dir)
        threading.Thread(target=self._read, name="kestrel-ray-log", daemon=True).start()
        try:
            with open(run_dir / records.LOG_FILE, "a", encoding="utf-8") as self._log_file:
                while True:
                    kind, value = await self._queue.get()
                    batch = []
                    while True:   # everything that is there already, logged in one go
                        if kind == "line":
                            self._line(value, batch)
                        elif kind == "lost":
                            self.lost += 1
                            batch.append(f"(connection to the cluster lost: {value}; reconnecting)")
                        elif kind == "end":
                            break
                        if self._queue.empty() or self.terminal is not None:
                            break
                        kind, value = self._queue.get_nowait()
                    self._log(batch)
                    if kind == "end" or self.terminal is not None:
                        break   # the run's answer is in: the job only winds down now
            if not self.detached:
                self._finish(value)
        except Exception as exc:  # reading failed: the run is lost, the follower is not
            records.mark_crashed(self.project, self.run_id, -1, f"{type(exc).__name__}: {exc}")
        finally:
            self._ended = True
            self._files.close()
            self.reader.stop()
            if self.lock is not None:
                self.lock.release()
        return self.project.runs.get(self.run_id).status

    def _read(self) -> None:   # the reader's thread
        try:
            state = self.reader.run(lambda line: self._put(("line", line)))
        except Exception as exc:
            state = f"ERROR {type(exc).__name__}: {exc}"
        self._put(("end", state))

    def _put(self, item) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:   # the loop is closed: nobody listens any more
            pass

    def _lost(self, message: str) -> None:
        self._put(("lost", message))

    def _line(self, line: str, batch: list[str]) -> None:
        kind, obj = wire.parse(_ANSI.sub("", line))
        if kind == "event":
            seq = obj.get("seq")
            if isinstance(seq, int) and seq <= self._seen:
                if seq == self._seen:
                    self._quiet = False   # what follows was not logged yet
                return
            self._seen = seq if isinstance(seq, int) else self._seen
            self._quiet = False
            self._event({**obj, "job": self.job_id})
        elif kind == "file":
            path = self._files.feed(obj)
            if path is not None and obj["part"] == obj["parts"] - 1 and not self._quiet:
                batch.append(f"received {path.name} ({obj['size'] / 2**20:.1f} MiB) from the cluster")
        elif kind == "stored":
            cluster.record_stored(self.project, self.run_id, obj)
            batch.append(f"checkpoints kept on cluster storage: {obj['uri']}")
        elif not self._quiet and obj.strip():
            batch.append(obj)

    def _event(self, event: dict) -> None:
        try:
            records.record_event(self.project, self.run_id, event)
        except Exception as exc:   # a full disk must not stop us reading the job
            if self.on_record_error is not None:
                self.on_record_error(f"(could not record {event.get('event')}: {exc})")
        if is_terminal(event):
            self.terminal = event
        if self.on_event is not None:
            self.on_event(event)

    def _log(self, lines: list[str]) -> None:
        if not lines:
            return
        self.tail.extend(lines)
        self._log_file.write("\n".join(lines) + "\n")
        self._log_file.flush()
        if self.on_log is not None:
            self.on_log(lines)

    def _finish(self, state: str) -> None:
        """The job ended: without a terminal event, say how (from Ray's own account)."""
        if self.terminal is not None:
            return
        run = self.project.runs.get(self.run_id)
        if run.status != "running":
            return
        message = self.reader.message or state
        if self.cancelling or state == "STOPPED":
            self.project.runs.update(self.run_id, status="cancelled",
                                     message=f"the Ray job {self.job_id} was stopped before "
                                             "it could save a checkpoint")
            return
        tail = "\n".join(line for line in list(self.tail)[-12:] if line.strip())
        self.project.runs.update(
            self.run_id, status="failed",
            message=f"the Ray job {self.job_id} ended ({state or 'unknown'}) without a result: "
                    f"{message}" + (f"\n\n{tail}" if tail else ""))
