"""Rolling online backups of ``kestrel.db`` (SQLite's backup API).

A backup is taken through its own connection, so it runs on any thread and never
blocks the window's writes (WAL: a reader sees one consistent snapshot while the
writer goes on). It is written as ``<name>.partial``, checked (``quick_check``),
flushed to disk and only then renamed to its final name, so a backup that exists
under its final name is complete; a failed one (disk full, read-only folder)
leaves nothing behind but a clear ``BackupError``, and the project file is only
read. The newest ``keep`` backups are kept; older ones are deleted only after
a new one is complete.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

BACKUP_DIR = "kestrel-backups"
KEEP = 5
_PREFIX, _SUFFIX = "kestrel-", ".db"


class BackupError(RuntimeError):
    """A backup could not be written; the project file is untouched."""


def backup_dir(root: Path) -> Path:
    return Path(root) / BACKUP_DIR


def list_backups(root: Path) -> list[Path]:
    """Complete backups of a project, newest first."""
    folder = backup_dir(root)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.name.startswith(_PREFIX)
                   and p.name.endswith(_SUFFIX) and p.is_file()), reverse=True)


def make_backup(root: Path, keep: int = KEEP, db_name: str = "kestrel.db") -> Path:
    """Copy the project's database into ``kestrel-backups/``; returns the new file."""
    root = Path(root)
    folder = backup_dir(root)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    final = folder / f"{_PREFIX}{stamp}{_SUFFIX}"
    partial = final.with_name(final.name + ".partial")
    try:
        folder.mkdir(exist_ok=True)
        partial.touch()            # an unwritable folder fails here with its true reason
        src = sqlite3.connect(root / db_name, timeout=10)
        try:
            dst = sqlite3.connect(partial, isolation_level=None)
            try:
                src.backup(dst)                     # one step: one consistent snapshot
                dst.execute("PRAGMA journal_mode = DELETE")   # a single self-contained file
                verdict = dst.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                dst.close()
        finally:
            src.close()
        if verdict != "ok":
            raise BackupError(f"the project file {root / db_name} fails its check ({verdict}); "
                              f"kept the earlier backups. Run `kestrel doctor {root}`")
        fsync_file(partial)
        os.replace(partial, final)
        fsync_dir(folder)
    except BackupError:
        _remove(partial)
        raise
    except (sqlite3.Error, OSError) as exc:
        _remove(partial)
        raise BackupError(f"cannot write a backup in {folder}: {describe(exc)}") from exc
    for old in list_backups(root)[keep:]:
        _remove(old)
    return final


def describe(exc: BaseException) -> str:
    """A short, plain reason for a failed write."""
    import errno

    text = str(exc)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return "the disk is full"
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "the folder is read-only (or not writable by you)"
    if "disk is full" in text or "disk I/O error" in text:
        return "the disk is full or failing (" + text + ")"
    if "readonly" in text or "read-only" in text:
        return "the folder is read-only (or not writable by you)"
    return text


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where dirs cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:        # gone already, or a read-only folder where it never was written
        pass
