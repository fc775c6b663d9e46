"""Per-project settings: small text values by key (last media viewed, active model…)."""

from __future__ import annotations

from app.store.repos.base import Repository, StoreError, is_busy


class SettingRepository(Repository):
    def get(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set(self, key: str, value: str | None) -> None:
        with self.db.transaction() as c:
            if value is None:
                c.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                c.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def set_if_free(self, key: str, value: str | None) -> bool:
        """``set`` unless another writer holds the project now: then nothing is written
        and False is returned at once (for values not worth a wait on the GUI thread)."""
        try:
            with self.db.waiting_at_most(0):
                self.set(key, value)
        except StoreError as exc:
            if is_busy(exc):
                return False
            raise
        return True
