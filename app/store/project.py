"""A Kestrel project: a folder holding ``kestrel.db`` (SQLite, WAL, foreign keys on).

Every write goes through ``transaction()`` and is committed at once, so killing the
process loses nothing that was shown as done. Readers on other threads or processes
open their own ``Project`` on the same folder; WAL lets them read while one writes.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from app.store import schema
from app.store._embeddings import EmbeddingsMixin
from app.store._labels import LabelsMixin
from app.store._media import MediaMixin
from app.store._predictions import PredictionsMixin
from app.store._runs import RunsMixin
from app.store._video import VideoMixin

DB_NAME = "kestrel.db"


class ProjectError(RuntimeError):
    """A user-facing problem with a project folder (missing, not a project, …)."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Project(MediaMixin, LabelsMixin, RunsMixin, VideoMixin, PredictionsMixin,
              EmbeddingsMixin):
    def __init__(self, root: Path, conn: sqlite3.Connection):
        self.root = root
        self.conn = conn
        self._depth = 0

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
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (see transaction()).
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

    # -- transactions --------------------------------------------------------------
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
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")
        finally:
            self._depth = 0

    # -- paths ---------------------------------------------------------------------
    def stored_path(self, path: str | os.PathLike) -> str:
        """How a file path is stored: relative (posix) inside the project, else absolute."""
        p = Path(path).expanduser().absolute()
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            return p.as_posix()

    def resolve(self, stored: str) -> Path:
        p = Path(stored)
        return p if p.is_absolute() else self.root / p

    # -- settings ------------------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str | None) -> None:
        with self.transaction() as c:
            if value is None:
                c.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                c.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    # -- summary -------------------------------------------------------------------
    def info(self) -> dict:
        c = self.conn
        images, videos, frames = c.execute(
            "SELECT COALESCE(SUM(kind = 'image'), 0), COALESCE(SUM(kind = 'video'), 0), "
            "COALESCE(SUM(CASE WHEN kind = 'video' THEN frame_count ELSE 0 END), 0) FROM media"
        ).fetchone()
        per_class = {
            r["name"]: r["n"]
            for r in c.execute(
                "SELECT classes.name AS name, COUNT(boxes.id) AS n FROM classes "
                "LEFT JOIN boxes ON boxes.class_id = classes.id AND boxes.source != 'predicted' "
                "GROUP BY classes.id ORDER BY classes.position"
            )
        }
        per_tag = {
            r["name"]: r["n"]
            for r in c.execute(
                "SELECT tags.name AS name, COUNT(media_tags.media_id) AS n FROM tags "
                "LEFT JOIN media_tags ON media_tags.tag_id = tags.id "
                "GROUP BY tags.id ORDER BY tags.position"
            )
        }
        runs = c.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        return {
            "project": str(self.root),
            "schema": schema.version(c),
            "images": images,
            "videos": videos,
            "frames": frames,
            "boxes": sum(per_class.values()),
            "boxes_per_class": per_class,
            "tags": per_tag,
            "runs": runs,
        }
