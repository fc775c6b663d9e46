"""The connection every repository shares, and its transactions."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime, timezone
from typing import Iterator

BOX_COLS = ("id, media_id, frame, class_id, x1, y1, x2, y2, track_id, source, score, run_id, "
            "author, created_at, updated_at")


StoreError = sqlite3.Error     # what a failing read or write of the project raises


def is_busy(exc: BaseException) -> bool:
    """Another connection holds the project's write lock (or a table is locked)."""
    if not isinstance(exc, sqlite3.Error):
        return False
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Database:
    """One SQLite connection (WAL, foreign keys) and nested transactions on it.

    Every write goes through ``transaction()`` and is committed at once, so killing
    the process loses nothing that was shown as done."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._depth = 0

    def execute(self, sql: str, args=()) -> sqlite3.Cursor:
        return self.conn.execute(sql, args)

    def data_version(self) -> int:
        """Changes when another connection commits (SQLite's PRAGMA data_version)."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    @contextlib.contextmanager
    def waiting_at_most(self, ms: int) -> Iterator[None]:
        """Writes inside wait at most ``ms`` for another writer, then raise busy."""
        before = self.conn.execute("PRAGMA busy_timeout").fetchone()[0]
        self.conn.execute(f"PRAGMA busy_timeout = {int(ms)}")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {int(before)}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work; nested calls become savepoints."""
        if self._depth:
            name = f"sp{self._depth}"
            self.conn.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                raise
            else:
                self.conn.execute(f"RELEASE {name}")
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            # Also when COMMIT itself fails (deferred foreign key, disk full, I/O
            # error): the transaction is still open and must not stay so.
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0


class Repository:
    def __init__(self, db: Database):
        self.db = db


class ProjectPaths:
    """How file paths are stored: relative (posix) inside the project, else absolute."""

    def __init__(self, root):
        self.root = root

    def stored(self, path) -> str:
        from pathlib import Path

        p = Path(path).expanduser().absolute()
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            return p.as_posix()

    def resolve(self, stored: str):
        from pathlib import Path

        p = Path(stored)
        return p if p.is_absolute() else self.root / p
