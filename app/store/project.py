"""A Kestrel project: a folder holding ``kestrel.db`` (SQLite, WAL, foreign keys on).

``Project`` is a small facade: it opens the database and composes the repositories
that read and write it (``project.media``, ``project.classes``, ``project.boxes``,
``project.tags``, ``project.tracks``, ``project.frames``, ``project.runs``,
``project.predictions``, ``project.embeddings``, ``project.settings``,
``project.status``). Every write is committed at once, so killing the process loses
nothing that was shown as done.
Readers on other threads or processes open their own ``Project`` on the same folder;
WAL lets them read while one writes.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from app.store import schema
from app.store.repos.base import Database, ProjectPaths, now
from app.store.repos.boxes import BoxRepository
from app.store.repos.classes import ClassRepository
from app.store.repos.embeddings import EmbeddingRepository
from app.store.repos.frames import FrameRepository
from app.store.repos.media import ImportReport, MediaRepository
from app.store.repos.predictions import PredictionRepository
from app.store.repos.runs import RunRepository
from app.store.repos.settings import SettingRepository
from app.store.repos.status import StatusRepository
from app.store.repos.tags import TagRepository
from app.store.repos.tracks import TrackRepository

DB_NAME = "kestrel.db"

__all__ = ["DB_NAME", "ImportReport", "Project", "ProjectError", "now"]


class ProjectError(RuntimeError):
    """A user-facing problem with a project folder (missing, not a project, …)."""


class Project:
    def __init__(self, root: Path, conn: sqlite3.Connection):
        self.root = root
        self.conn = conn          # for the store's own modules and tests; SQL stays in app.store
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
    def open(cls, folder: str | os.PathLike) -> "Project":
        root = Path(folder).expanduser().absolute()
        if not (root / DB_NAME).is_file():
            raise ProjectError(f"{root} is not a Kestrel project (no {DB_NAME})")
        return cls._connect(root)

    @classmethod
    def _connect(cls, root: Path) -> "Project":
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (see Database.transaction).
        conn = sqlite3.connect(root / DB_NAME, isolation_level=None, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # durable across process kills in WAL
        conn.execute("PRAGMA foreign_keys = ON")
        try:
            schema.migrate(conn)
        except (schema.SchemaError, sqlite3.DatabaseError) as exc:
            conn.close()
            raise ProjectError(f"{root / DB_NAME}: {exc}") from exc
        return cls(root, conn)

    def close(self) -> None:
        self.conn.close()

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
