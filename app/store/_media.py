"""Media rows of a project: import, lookup, relocation of moved files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from app.store import probe as _probe
from app.store.models import Media

_MEDIA_COLS = (
    "id, path, name, kind, width, height, fps, frame_count, content_hash, file_size, added_at"
)


@dataclass
class ImportReport:
    added: list[int] = field(default_factory=list)
    already: list[str] = field(default_factory=list)       # paths already in the project
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def _media(row) -> Media:
    return Media(*row)


class MediaMixin:
    # -- reading -------------------------------------------------------------------
    def media(self, media_id: int) -> Media:
        row = self.conn.execute(f"SELECT {_MEDIA_COLS} FROM media WHERE id = ?", (media_id,)).fetchone()
        if row is None:
            raise KeyError(f"no media with id {media_id}")
        return _media(row)

    def list_media(self, kind: str | None = None) -> list[Media]:
        sql = f"SELECT {_MEDIA_COLS} FROM media"
        args: tuple = ()
        if kind:
            sql += " WHERE kind = ?"
            args = (kind,)
        return [_media(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def media_ids(self, where: str = "", args: tuple = ()) -> list[int]:
        """Ids of media in browse order; ``where`` is an SQL condition on ``media m``."""
        sql = "SELECT m.id FROM media m" + (f" WHERE {where}" if where else "") + " ORDER BY m.id"
        return [r[0] for r in self.conn.execute(sql, args)]

    def media_by_path(self, path: str | os.PathLike) -> Media | None:
        row = self.conn.execute(
            f"SELECT {_MEDIA_COLS} FROM media WHERE path = ?", (self.stored_path(path),)
        ).fetchone()
        return _media(row) if row else None

    def media_path(self, media: Media | int) -> Path:
        m = self.media(media) if isinstance(media, int) else media
        return self.resolve(m.path)

    # -- writing -------------------------------------------------------------------
    def import_media(self, paths: Iterable[str | os.PathLike], progress=None) -> ImportReport:
        """Probe and add files and folders; bad files are skipped with their reason.

        Probing happens outside the transaction; all new rows go in one transaction.
        """
        report = ImportReport()
        known = {r[0] for r in self.conn.execute("SELECT path FROM media")}
        rows = []
        for n, (path, base) in enumerate(_probe.discover(paths)):
            stored = self.stored_path(path)
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
        with self.transaction():
            for info, stored, name in rows:
                report.added.append(self.add_media_row(info, stored, name))
        return report

    def add_media_row(self, info: _probe.MediaInfo, stored: str, name: str) -> int:
        from app.store.project import now

        cur = self.conn.execute(
            "INSERT INTO media (path, name, kind, width, height, fps, frame_count, "
            "content_hash, file_size, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (stored, name, info.kind, info.width, info.height, info.fps, info.frame_count,
             info.content_hash, info.file_size, now()),
        )
        return cur.lastrowid

    def delete_media(self, media_id: int) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM media WHERE id = ?", (media_id,))

    # -- moved files ---------------------------------------------------------------
    def missing_media(self) -> list[Media]:
        return [m for m in self.list_media() if not self.resolve(m.path).is_file()]

    def relocate(self, folder: str | os.PathLike) -> dict[int, str]:
        """Find missing media again under ``folder`` by content hash; returns id → new path."""
        missing = {}
        for m in self.missing_media():
            missing.setdefault((m.content_hash, m.file_size), []).append(m)
        found: dict[int, str] = {}
        if not missing:
            return found
        taken = {r[0] for r in self.conn.execute("SELECT path FROM media")}
        sizes = {size for _, size in missing}
        for path, _ in _probe.discover([folder]):
            size = path.stat().st_size
            stored = self.stored_path(path)
            if size not in sizes or stored in taken:
                continue  # hashing only files whose size matches keeps this fast
            bucket = missing.get((_probe.quick_hash(path, size), size))
            if bucket:
                found[bucket.pop().id] = stored
                taken.add(stored)
        with self.transaction() as c:
            for media_id, stored in found.items():
                c.execute("UPDATE media SET path = ? WHERE id = ?", (stored, media_id))
        return found
