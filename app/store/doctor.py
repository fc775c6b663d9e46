"""Checking a project file and restoring it from a backup (``kestrel doctor``).

``check`` runs SQLite's ``integrity_check`` (or the faster ``quick_check``) and
turns every way a damaged file fails into a list of problems instead of an
exception. ``header_problem`` is the cheap test done on every open: a file that is
empty, not SQLite, or shorter than its own header says (truncated). ``restore``
puts the newest good backup in place; the damaged file is moved aside, never
deleted, so nothing is lost by restoring.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app.store.backup import backup_dir, describe, fsync_dir, fsync_file, list_backups
from app.store.lockfile import PROJECT_LOCK, WINDOW_LOCK, FileLock

_MAGIC = b"SQLite format 3\x00"


def header_problem(db: Path) -> str | None:
    """What is visibly wrong with ``db`` before SQLite reads it, or None.

    The size test is made only when no write-ahead log is pending: pages still in a
    WAL legitimately extend the file only when SQLite checkpoints them.
    """
    try:
        size = db.stat().st_size
        with open(db, "rb") as f:
            header = f.read(100)
    except OSError as exc:
        return f"cannot read it ({describe(exc)})"
    if size == 0:
        return "the file is empty"
    if len(header) < 100 or header[:16] != _MAGIC:
        return "it is not an SQLite database (its header is damaged or missing)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size_valid = header[24:28] == header[92:96]
    wal = db.with_name(db.name + "-wal")
    if size_valid and pages and not (wal.exists() and wal.stat().st_size > 0) \
            and pages * page_size > size:
        return f"the file is truncated ({size} of {pages * page_size} bytes)"
    return None


def check(db: Path, full: bool = True) -> list[str]:
    """Problems SQLite finds in ``db`` (empty: it is fine)."""
    problem = header_problem(db)
    if problem:
        return [problem]
    try:
        conn = sqlite3.connect(db, timeout=10)
        try:
            rows = conn.execute("PRAGMA integrity_check" if full else "PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    found = [r[0] for r in rows]
    return [] if found == ["ok"] else found


@dataclass
class BackupInfo:
    path: Path
    size: int
    problems: list[str]

    @property
    def good(self) -> bool:
        return not self.problems


@dataclass
class Report:
    db: Path
    problems: list[str]
    backups: list[BackupInfo] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def newest_good(self) -> BackupInfo | None:
        return next((b for b in self.backups if b.good), None)


def examine(root: Path, db_name: str = "kestrel.db") -> Report:
    """The project file's full integrity check, and a quick check of every backup."""
    root = Path(root)
    db = root / db_name
    problems = check(db) if db.exists() else [f"{db} does not exist"]
    backups = [BackupInfo(p, p.stat().st_size, check(p, full=False)) for p in list_backups(root)]
    return Report(db, problems, backups)


class RestoreError(RuntimeError):
    pass


def restore(root: Path, source: Path | None = None, db_name: str = "kestrel.db") -> tuple[Path, Path]:
    """Put a backup (the newest good one by default) in place of the project file.

    Refused while any window or command has the project open (they would go on
    writing to the file set aside). The current file (and its -wal/-shm) moves to
    ``kestrel-backups/damaged-<time>/``. Returns (the backup restored, the folder
    holding the replaced file).
    """
    root = Path(root)
    # The window's own lock too: on Windows the shared project lock is not taken.
    with FileLock(root / PROJECT_LOCK) as lock, FileLock(root / WINDOW_LOCK) as window:
        if lock.busy or window.busy:
            raise RestoreError("the project is open in Kestrel (a window or a command); "
                               "close it, then restore")
        return _restore(root, source, db_name)


def _restore(root: Path, source: Path | None, db_name: str) -> tuple[Path, Path]:
    if source is None:
        good = examine(root, db_name).newest_good()
        if good is None:
            raise RestoreError(f"{root}: no good backup to restore (looked in {backup_dir(root)})")
        source = good.path
    elif check(Path(source), full=False):
        raise RestoreError(f"{source}: this backup is damaged too; choose another")
    source = Path(source)
    aside = backup_dir(root) / f"damaged-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}"
    incoming = root / f"{db_name}.restoring"
    try:
        shutil.copyfile(source, incoming)
        fsync_file(incoming)
        aside.mkdir(parents=True)
        for suffix in ("", "-wal", "-shm"):
            old = root / f"{db_name}{suffix}"
            if old.exists():
                os.replace(old, aside / old.name)
        os.replace(incoming, root / db_name)
        fsync_dir(root)
    except OSError as exc:
        if incoming.exists():
            incoming.unlink()
        raise RestoreError(f"cannot restore {source.name} into {root}: {describe(exc)} "
                           f"(anything moved aside is in {aside})") from exc
    return source, aside
