"""A Kestrel project: a folder holding ``kestrel.db`` (SQLite, WAL, foreign keys on).

``Project`` is a small facade: it opens the database and composes the repositories
that read and write it (``project.media``, ``project.classes``, ``project.boxes``,
``project.tags``, ``project.tracks``, ``project.frames``, ``project.runs``,
``project.predictions``, ``project.embeddings``, ``project.settings``,
``project.status``, ``project.next``). Every write is committed at once, so killing the process loses
nothing that was shown as done.
Readers on other threads or processes open their own ``Project`` on the same folder;
WAL lets them read while one writes.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from app.store import schema
from app.store.lockfile import PROJECT_LOCK, FileLock
from app.store.repos.base import Database, ProjectPaths, now
from app.store.repos.boxes import BoxRepository
from app.store.repos.classes import ClassRepository
from app.store.repos.embeddings import EmbeddingRepository
from app.store.repos.frames import FrameRepository
from app.store.repos.media import ImportReport, MediaRepository
from app.store.repos.next import NextRepository
from app.store.repos.predictions import PredictionRepository
from app.store.repos.runs import RunRepository
from app.store.repos.settings import SettingRepository
from app.store.repos.status import StatusRepository
from app.store.repos.tags import TagRepository
from app.store.repos.tracks import TrackRepository

DB_NAME = "kestrel.db"
BUSY_TIMEOUT = 30.0   # seconds a command waits for another writer; the window waits less


def _damage(exc: sqlite3.Error) -> bool:
    """Whether an SQLite error says the file itself is damaged."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (code is not None and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)) or any(
        w in str(exc) for w in ("malformed", "not a database", "corrupt"))

__all__ = ["DB_NAME", "ImportReport", "Project", "ProjectDamaged", "ProjectError", "now"]


def store_problem(exc: sqlite3.Error, root: str | os.PathLike | None = None) -> str:
    """One line for a user about an SQLite error met while working on a project."""
    where = Path(root).expanduser().absolute() if root else None
    if _damage(exc):
        return str(ProjectDamaged(where, str(exc))) if where else f"the project file is damaged ({exc})"
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    text = str(exc)
    target = f"{where / DB_NAME}" if where else "the project file"
    if code == sqlite3.SQLITE_FULL or "disk is full" in text:
        return f"cannot write to {target}: the disk is full; the unfinished change was rolled back"
    if code == sqlite3.SQLITE_READONLY or "readonly" in text:
        return f"cannot write to {target}: it (or its folder) is read-only"
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
        return f"{target} is busy: another program kept it locked too long; try again"
    if code == sqlite3.SQLITE_IOERR or "I/O error" in text:
        return f"cannot write to {target}: disk I/O error (disk full or failing?); the unfinished change was rolled back"
    return f"{target}: {text}"


class ProjectError(RuntimeError):
    """A user-facing problem with a project folder (missing, not a project, …)."""


class ProjectDamaged(ProjectError):
    """The project file is damaged (truncated, corrupted); ``kestrel doctor`` restores it."""

    def __init__(self, root: Path, reason: str):
        self.root, self.reason = root, reason
        super().__init__(f"{root / DB_NAME} is damaged ({reason}); run `kestrel doctor {root}` "
                         "to check it and restore the newest good backup")


class Project:
    def __init__(self, root: Path, conn: sqlite3.Connection):
        self.root = root
        self.conn = conn          # for the store's own modules and tests; SQL stays in app.store
        self._lock = FileLock(root / PROJECT_LOCK, shared=True)   # see app.store.lockfile
        self.db = Database(conn)
        self.paths = ProjectPaths(root)
        self.media = MediaRepository(self.db, self.paths)
        self.classes = ClassRepository(self.db)
        self.boxes = BoxRepository(self.db)
        self.tags = TagRepository(self.db)
        self.tracks = TrackRepository(self.db)
        self.frames = FrameRepository(self.db)
        self.runs = RunRepository(self.db)
        self.predictions = PredictionRepository(self.db, self.boxes)
        self.embeddings = EmbeddingRepository(self.db)
        self.settings = SettingRepository(self.db)
        self.status = StatusRepository(self.db)     # labelling status of every picture
        self.next = NextRepository(self.db)         # what to label next (app.next)

    # -- opening ------------------------------------------------------------------
    @classmethod
    def create(cls, folder: str | os.PathLike) -> "Project":
        root = Path(folder).expanduser().absolute()
        if (root / DB_NAME).exists():
            raise ProjectError(f"{root} is already a Kestrel project")
        if root.exists() and not root.is_dir():
            raise ProjectError(f"{root} exists and is not a folder")
        root.mkdir(parents=True, exist_ok=True)
        return cls._connect(root)

    @classmethod
    def open(cls, folder: str | os.PathLike, *, check: bool = False,
             busy_timeout: float = BUSY_TIMEOUT) -> "Project":
        """Open a project. A damaged file raises ``ProjectDamaged``: always when its
        header shows it (empty, not SQLite, truncated), and with ``check`` (the
        window does) when SQLite's ``quick_check`` finds any damage (~0.1 s per
        100 MB)."""
        from app.store.doctor import header_problem

        root = Path(folder).expanduser().absolute()
        if not (root / DB_NAME).is_file():
            raise ProjectError(f"{root} is not a Kestrel project (no {DB_NAME})")
        problem = header_problem(root / DB_NAME)
        if problem:
            raise ProjectDamaged(root, problem)
        return cls._connect(root, check=check, busy_timeout=busy_timeout)

    @classmethod
    def _connect(cls, root: Path, check: bool = False,
                 busy_timeout: float = BUSY_TIMEOUT) -> "Project":
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (see Database.transaction).
        conn = sqlite3.connect(root / DB_NAME, isolation_level=None, timeout=busy_timeout)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit is on the disk (WAL fsync'd) before the edit shows as done,
            # so it survives a power cut, not only a kill. Cost: tests/benchmarks/RESULTS.md.
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            if check:
                verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
                if verdict != "ok":
                    raise sqlite3.DatabaseError(verdict)
            schema.migrate(conn)
        except schema.SchemaError as exc:
            conn.close()
            raise ProjectError(f"{root / DB_NAME}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            if isinstance(exc, sqlite3.OperationalError) and not _damage(exc):
                raise ProjectError(f"{root / DB_NAME}: {exc}") from exc   # locked, unwritable
            raise ProjectDamaged(root, str(exc)) from exc
        return cls(root, conn)

    def close(self) -> None:
        self.conn.close()
        self._lock.release()

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def transaction(self):
        """One atomic unit of work across repositories; nested calls become savepoints."""
        return self.db.transaction()

    # -- paths ---------------------------------------------------------------------
    def stored_path(self, path: str | os.PathLike) -> str:
        """How a file path is stored: relative (posix) inside the project, else absolute."""
        return self.paths.stored(path)

    def resolve(self, stored: str) -> Path:
        return self.paths.resolve(stored)

    # -- summary -------------------------------------------------------------------
    def info(self) -> dict:
        images, videos, frames = self.db.execute(
            "SELECT COALESCE(SUM(kind = 'image'), 0), COALESCE(SUM(kind = 'video'), 0), "
            "COALESCE(SUM(CASE WHEN kind = 'video' THEN frame_count ELSE 0 END), 0) FROM media"
        ).fetchone()
        per_class = self.classes.box_counts_by_name()
        return {"project": str(self.root), "schema": schema.version(self.conn), "images": images,
                "videos": videos, "frames": frames, "boxes": sum(per_class.values()),
                "boxes_per_class": per_class, "tags": self.tags.counts(),
                "runs": self.runs.count()}
