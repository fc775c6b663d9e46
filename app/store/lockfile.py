"""Who has a project open: OS file locks beside ``kestrel.db``.

Every open ``Project`` holds a SHARED lock on ``kestrel.lock`` (any number of
windows, commands and worker threads at once), so ``kestrel doctor --restore``
can take it EXCLUSIVELY and be sure nobody still writes to the file it replaces.
A window also holds ``kestrel.window.lock`` exclusively: a second window on the
same project finds it taken and opens read-only. The operating system releases
a lock when its process ends, however it ends (crash, kill, power cut).

POSIX ``flock``: a second open of the file conflicts even within one process. On
Windows, where ``msvcrt`` has no shared locks, only exclusive locks are taken.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_LOCK = "kestrel.lock"
WINDOW_LOCK = "kestrel.window.lock"

if os.name == "nt":
    import msvcrt

    def _lock(fd: int, shared: bool) -> bool:
        if shared:
            return True
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(fd: int, shared: bool) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class FileLock:
    """A lock taken without waiting: ``held`` if got, ``busy`` if someone else holds
    it (neither: the lock file cannot be made, e.g. in a read-only folder)."""

    def __init__(self, path: str | os.PathLike, shared: bool = False):
        self.path = Path(path)
        self._fd: int | None = None
        self.busy = False
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return
        if _lock(fd, shared):
            self._fd = fd
        else:
            os.close(fd)
            self.busy = True

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            try:
                _unlock(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> "FileLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self):
        self.release()
