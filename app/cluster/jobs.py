"""Submitting a Kestrel job to a Ray cluster and reading its log to the end, through
the Jobs API only (so any cluster whose dashboard is reachable will do).

``JobLogReader.run`` follows a job's log over the dashboard's websocket, handing each
complete line to a callback in the calling thread. When the connection drops it says
so, waits and reconnects; the log is replayed from its start and the lines it has
already handed over are skipped, so nothing is lost or doubled. When the job has
ended it reads the whole log once more for the lines the stream had not sent yet.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from app.cluster.connect import ClusterError, job_client

TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
BACKOFF_S = (1.0, 2.0, 4.0, 5.0)
SILENCE_S = 10.0      # a log stream silent this long is checked
STOP_WAIT_S = 120     # Ray's grace between SIGTERM and SIGKILL of a stopped job
PACKAGE_LIMIT = 500 * 2**20   # Ray's upload limit is 512 MiB per package


@dataclass
class JobSpec:
    """What to submit: the entrypoint runs in ``working_dir`` (minus ``excludes``) on
    the cluster, with the ``training`` package on its path."""
    entrypoint: str
    working_dir: Path
    excludes: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    submission_id: str = field(default_factory=lambda: f"kestrel-{uuid.uuid4().hex[:12]}")

    def runtime_env(self) -> dict:
        import training

        return {"working_dir": str(self.working_dir),
                "py_modules": [str(Path(training.__file__).parent)],
                "excludes": ["__pycache__", "*.pyc", *self.excludes],
                "env_vars": {"RAY_CHDIR_TO_TRIAL_DIR": "0",   # workers stay in the working dir
                             "RAY_JOB_STOP_WAIT_TIME_S": str(STOP_WAIT_S),
                             "PYTHONUNBUFFERED": "1", **self.env}}


def package_size(folder: Path, excludes: list[str]) -> int:
    top = {e.lstrip("/") for e in excludes}
    total = 0
    for entry in folder.iterdir():
        if entry.name in top:
            continue
        paths = [entry] if entry.is_file() else entry.rglob("*")
        total += sum(p.stat().st_size for p in paths if p.is_file())
    return total


def submit(address: str, spec: JobSpec) -> str:
    """Upload the working dir and start the job; its submission id (blocking)."""
    size = package_size(spec.working_dir, spec.excludes)
    if size > PACKAGE_LIMIT:
        raise ClusterError(f"{size / 2**20:.0f} MiB to send with the job: more than Ray "
                           f"accepts in one upload ({PACKAGE_LIMIT / 2**20:.0f} MiB)")
    client = job_client(address)
    try:
        return client.submit_job(entrypoint=spec.entrypoint, runtime_env=spec.runtime_env(),
                                 submission_id=spec.submission_id,
                                 metadata={"kestrel": "1"})
    except Exception as exc:
        raise ClusterError(f"the cluster refused the job: {str(exc).strip()[-400:]}") from None


def stop(address: str, job_id: str, attempts: int = 5) -> bool:
    """Ask Ray to stop a job (SIGTERM to its driver, which saves and ends); retried
    while the cluster does not answer. True once asked."""
    for attempt in range(attempts):
        try:
            job_client(address).stop_job(job_id)
            return True
        except Exception:
            time.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
    return False


def status(address: str, job_id: str) -> tuple[str, str]:
    """(status, message) of a job, e.g. ("RUNNING", "")."""
    info = job_client(address).get_job_info(job_id)
    return str(getattr(info.status, "value", info.status)), info.message or ""


class JobLogReader:
    """Follows one job's log to its end (see the module's docstring)."""

    def __init__(self, address: str, job_id: str, *,
                 on_lost: Callable[[str], None] | None = None):
        self.address, self.job_id = address, job_id
        self.on_lost = on_lost
        self.lines_seen = 0        # complete lines handed over so far
        self.status = ""           # the job's final status, once ended
        self.message = ""
        self._stop = threading.Event()

    def stop(self) -> None:
        """Stop following (from any thread); the job itself goes on."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def run(self, on_line: Callable[[str], None]) -> str:
        """Block until the job has ended (its status) or ``stop`` was called ("")."""
        return asyncio.run(self._follow(on_line))

    async def _follow(self, on_line: Callable[[str], None]) -> str:
        failures = 0
        while not self._stop.is_set():
            try:
                client = job_client(self.address)
                if not _known(client, self.job_id):   # a cluster restarted since
                    self.status = "UNKNOWN"
                    self.message = (f"the cluster at {self.address} does not know job "
                                    f"{self.job_id} (was it restarted?)")
                    return self.status
                await self._tail(client, on_line)
                if self._stop.is_set():
                    break
                job = client.get_job_info(self.job_id)
                state = str(getattr(job.status, "value", job.status))
                if state in TERMINAL:
                    self._rest(client.get_job_logs(self.job_id), on_line)
                    self.status, self.message = state, job.message or ""
                    return state
                failures = 0   # the stream closed early, the cluster still answers
            except Exception as exc:   # the cluster is unreachable: try again
                if self.on_lost is not None:
                    self.on_lost(_short(exc))
                failures += 1
            await self._sleep(BACKOFF_S[min(failures, len(BACKOFF_S)) - 1] if failures else 0.5)
        return ""

    async def _tail(self, client, on_line) -> None:
        """Stream the log, skipping the lines handed over before a reconnection. A
        silent stream is checked every SILENCE_S: a connection that died without
        closing (a cable pulled) must not hang the reader."""
        skip, pending = self.lines_seen, ""
        stream = client.tail_job_logs(self.job_id)
        task, quiet_since = None, time.monotonic()
        try:
            while not self._stop.is_set():
                if task is None:
                    task = asyncio.ensure_future(_anext(stream))
                done, _ = await asyncio.wait({task}, timeout=0.5)
                if not done:
                    if time.monotonic() - quiet_since > SILENCE_S:
                        quiet_since = time.monotonic()
                        if await asyncio.to_thread(_ended, client, self.job_id):
                            return   # the caller reads what the stream had not sent
                    continue
                chunk, task, quiet_since = task.result(), None, time.monotonic()
                if chunk is None:
                    return
                pending += chunk
                *lines, pending = pending.split("\n")
                for line in lines:
                    if skip:
                        skip -= 1
                        continue
                    self.lines_seen += 1
                    on_line(line)
        finally:
            if task is not None:
                task.cancel()
            try:
                await stream.aclose()
            except Exception:
                pass

    def _rest(self, text: str, on_line) -> None:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for line in lines[self.lines_seen:]:
            self.lines_seen += 1
            on_line(line)

    async def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self._stop.is_set():
            await asyncio.sleep(0.1)


def _known(client, job_id: str) -> bool:
    try:
        client.get_job_info(job_id)
        return True
    except RuntimeError as exc:
        if "does not exist" in str(exc):
            return False
        raise


def _ended(client, job_id: str) -> bool:
    """Whether the job has ended; raises when the cluster does not answer in time."""
    import requests

    r = requests.get(f"{client.get_address()}/api/jobs/{job_id}", timeout=5)
    r.raise_for_status()
    return r.json().get("status") in TERMINAL


async def _anext(stream):
    try:
        return await stream.__anext__()
    except StopAsyncIteration:
        return None


def _short(exc: Exception) -> str:
    text = [t for t in str(exc).strip().splitlines() if t.strip()]
    return f"{type(exc).__name__}: {text[-1][:200]}" if text else type(exc).__name__


def hard_link_or_copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        import shutil

        shutil.copy2(src, dest)
