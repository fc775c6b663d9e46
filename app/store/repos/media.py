"""Media rows: import, lookup, relocation of moved files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from app.store import probe as _probe
from app.store.models import Media
from app.store.repos.base import Database, ProjectPaths, Repository, now

_COLS = "id, path, name, kind, width, height, fps, frame_count, content_hash, file_size, added_at"


@dataclass
class ImportReport:
    added: list[int] = field(default_factory=list)
    already: list[str] = field(default_factory=list)       # paths already in the project
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


class MediaRepository(Repository):
    def __init__(self, db: Database, paths: ProjectPaths):
        super().__init__(db)
        self.paths = paths

    # -- reading -------------------------------------------------------------------
    def get(self, media_id: int) -> Media:
        row = self.db.execute(f"SELECT {_COLS} FROM media WHERE id = ?", (media_id,)).fetchone()
        if row is None:
            raise KeyError(f"no media with id {media_id}")
        return Media(*row)

    def list(self, kind: str | None = None) -> list[Media]:
        sql, args = f"SELECT {_COLS} FROM media", ()
        if kind:
            sql, args = sql + " WHERE kind = ?", (kind,)
        return [Media(*r) for r in self.db.execute(sql + " ORDER BY id", args)]

    def ids(self, where: str = "", args: tuple = (), order: str = "") -> list[int]:
        """Ids of media in browse order; ``where`` is an SQL condition on ``media m``
        and ``order`` an ORDER BY list (written by ``app.store.browse``, never by
        callers outside the store); by id when none."""
        sql = ("SELECT m.id FROM media m" + (f" WHERE {where}" if where else "")
               + f" ORDER BY {order or 'm.id'}")
        return [r[0] for r in self.db.execute(sql, args)]

    def ids_of_kind(self, kind: str) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM media WHERE kind = ? ORDER BY id",
                                              (kind,))]

    def count(self, kind: str | None = None) -> int:
        if kind:
            return self.db.execute("SELECT COUNT(*) FROM media WHERE kind = ?", (kind,)).fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM media").fetchone()[0]

    def by_path(self, path: str | os.PathLike) -> Media | None:
        row = self.db.execute(f"SELECT {_COLS} FROM media WHERE path = ?",
                              (self.paths.stored(path),)).fetchone()
        return Media(*row) if row else None

    def path(self, media: Media | int) -> Path:
        m = self.get(media) if isinstance(media, int) else media
        return self.paths.resolve(m.path)

    def stored_paths(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT path FROM media")}

    # -- writing -------------------------------------------------------------------
    def import_files(self, paths: Iterable[str | os.PathLike], progress=None) -> ImportReport:
        """Probe and add files and folders; bad files are skipped with their reason.

        Probing happens outside the transaction; all new rows go in one transaction.
        """
        report = ImportReport()
        known = self.stored_paths()
        rows = []
        for n, (path, base) in enumerate(_probe.discover(paths)):
            stored = self.paths.stored(path)
            if stored in known:
                report.already.append(stored)
                continue
            try:
                info = _probe.probe(path)
            except _probe.ProbeError as exc:
                report.skipped.append((str(path), str(exc)))
                continue
            except OSError as exc:
                report.skipped.append((str(path), f"cannot read: {exc.strerror or exc}"))
                continue
            known.add(stored)
            rows.append((info, stored, path.relative_to(base).as_posix()))
            if progress:
                progress(n + 1)
        with self.db.transaction():
            for info, stored, name in rows:
                report.added.append(self.add_row(info, stored, name))
        return report

    def add_row(self, info: _probe.MediaInfo, stored: str, name: str, split: str | None = None) -> int:
        cur = self.db.execute(
            "INSERT INTO media (path, name, kind, width, height, fps, frame_count, "
            "content_hash, file_size, added_at, split) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (stored, name, info.kind, info.width, info.height, info.fps, info.frame_count,
             info.content_hash, info.file_size, now(), split))
        return cur.lastrowid

    # -- the dataset's own split (train / val / test) ----------------------------------
    def path_index(self) -> dict[str, tuple[int, int, int]]:
        """stored path -> (id, width, height), for matching a dataset against the project."""
        return {r[0]: (r[1], r[2], r[3]) for r in
                self.db.execute("SELECT path, id, width, height FROM media")}

    def splits(self) -> dict[int, str]:
        """media id -> split, for media that have one."""
        return {r[0]: r[1] for r in
                self.db.execute("SELECT id, split FROM media WHERE split IS NOT NULL")}

    def set_split(self, media_ids: Iterable[int], split: str | None) -> None:
        with self.db.transaction() as c:
            c.executemany("UPDATE media SET split = ? WHERE id = ?",
                          [(split, m) for m in media_ids])

    def delete(self, media_id: int) -> None:
        with self.db.transaction() as c:
            c.execute("DELETE FROM media WHERE id = ?", (media_id,))

    # -- moved files ---------------------------------------------------------------
    def missing(self) -> list[Media]:
        return [m for m in self.list() if not self.paths.resolve(m.path).is_file()]

    def relocate(self, folder: str | os.PathLike) -> dict[int, str]:
        """Find missing media again under ``folder`` by content hash; returns id → new path."""
        missing: dict[tuple, list[Media]] = {}
        for m in self.missing():
            missing.setdefault((m.content_hash, m.file_size), []).append(m)
        found: dict[int, str] = {}
        if not missing:
            return found
        taken = self.stored_paths()
        sizes = {size for _, size in missing}
        for path, _ in _probe.discover([folder]):
            size = path.stat().st_size
            stored = self.paths.stored(path)
            if size not in sizes or stored in taken:
                continue  # hashing only files whose size matches keeps this fast
            bucket = missing.get((_probe.quick_hash(path, size), size))
            if bucket:
                found[bucket.pop().id] = stored
                taken.add(stored)
        with self.db.transaction() as c:
            for media_id, stored in found.items():
                c.execute("UPDATE media SET path = ? WHERE id = ?", (stored, media_id))
        return found
