"""The persistent undo journal: undo/redo that survives a kill and costs no RAM.

SQLite's "Automatic Undo/Redo Using Triggers" (https://www.sqlite.org/undoredo.html).
Triggers on the label tables write, for every row an edit inserts, updates or
deletes, the SQL statement that reverses it into ``undo_log``, tagged with the
edit's row in ``undo_steps`` (its menu text and whether it is undone). The edit,
its log entries and its step row commit in ONE transaction, so after a kill the
history is exactly as the labels are. Undoing a step runs its statements newest
first; while they run the same triggers log their reverse, which becomes the
step's redo (and redo's reverse becomes its undo again). Ids stay stable: a row
comes back under its old id, and label tables never hand an id out twice
(AUTOINCREMENT, schema v6).

Only the user's edits are journaled. The triggers are TEMP triggers, created on
the window's connection alone (``Journal.install``), so ``kestrel import``, the
trainer, Predict all and worker threads, which open their own connections, never
write into the history; and on that connection they log only while a step is
being recorded or replayed (a one-row TEMP flag holds the step id). Predicted
boxes are model output, not labels, and are left out.

If another writer changed a row a step touches (deleted a box the user moved, took
a class name, put boxes in a class whose creation is undone), replaying that step
would not reverse exactly: every statement must change exactly one row and cascade
into no other journaled row, else the replay rolls back and raises
``JournalConflict``, leaving the labels as they were. For the same reason a step
deletes children before their parent (a class's boxes, then the class): replaying
a cascade would not reverse it row by row.

To journal another table, add it to ``TABLES`` (a condition on the row may
exclude some rows); columns are read from the table when the triggers are made.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any, Callable

from app.store.repos.base import now

# table -> condition a row must meet to be journaled ("{r}" is OLD or NEW), or None.
TABLES: dict[str, str | None] = {
    "boxes": "{r}.source != 'predicted'",
    "classes": None,
    "tags": None,
    "media_tags": None,
    "track_events": None,
    "label_marks": None,     # labelling status: "no objects", "needs review"
    "proposal_decisions": None,   # pre-labels accepted, edited or deleted (app.next)
}
LIMIT = 1000          # steps kept; older ones are pruned as new edits come
BUDGET = 64 << 20     # bytes of log kept (a long track re-interpolated logs much)
_FLAG = "kestrel_undo_flag"


class JournalConflict(RuntimeError):
    """A step cannot be replayed: another writer changed the rows it touches."""


@dataclass(frozen=True)
class Step:
    id: int
    text: str
    undone: bool


@dataclass
class Changes:
    """What a step changed: table -> ids of the media whose rows changed (empty for
    tables without a media, such as classes and tags)."""
    tables: dict[str, set[int]] = field(default_factory=dict)
    pruned_by_size: int = 0       # old steps dropped to keep the log within its budget

    def media(self, *tables: str) -> set[int]:
        return set().union(*(self.tables.get(t, set()) for t in tables))

    def __contains__(self, table: str) -> bool:
        return table in self.tables


class Journal:
    """The undo history of one project, driven through the window's connection."""

    def __init__(self, project, limit: int = LIMIT, budget: int = BUDGET):
        self.project = project
        self.db = project.db
        self.limit = limit
        self.budget = budget
        self.install()

    # -- triggers ----------------------------------------------------------------------
    def install(self) -> None:
        """Create the TEMP flag table and triggers on this connection (idempotent)."""
        c = self.db.conn
        c.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_FLAG} (step INTEGER)")
        if c.execute(f"SELECT COUNT(*) FROM temp.{_FLAG}").fetchone()[0] == 0:
            c.execute(f"INSERT INTO temp.{_FLAG} VALUES (NULL)")
        for table, condition in TABLES.items():
            for statement in _triggers(c, table, condition):
                c.execute(statement)

    # -- recording ---------------------------------------------------------------------
    def record(self, text: str, fn: Callable[[Any], Any]) -> tuple[Step | None, Any, Changes]:
        """Run ``fn(project)`` as one undoable step, in one transaction with its log.

        Returns (the step, or None when nothing changed; ``fn``'s result; changes).
        A new step drops the undone ones (the redo branch) and the oldest beyond
        ``limit``.
        """
        with self.db.transaction() as c:
            c.execute("DELETE FROM undo_steps WHERE undone = 1")
            step_id = c.execute("INSERT INTO undo_steps (text, undone, created_at) VALUES (?, 0, ?)",
                                (text, now())).lastrowid
            self._set_flag(step_id)
            try:
                result = fn(self.project)
            finally:
                self._set_flag(None)
            changes = self._changes(step_id)
            if not changes.tables:
                c.execute("DELETE FROM undo_steps WHERE id = ?", (step_id,))
                return None, result, changes
            self._measure(step_id)
            c.execute("DELETE FROM undo_steps WHERE id NOT IN "
                      "(SELECT id FROM undo_steps ORDER BY id DESC LIMIT ?)", (self.limit,))
            # Then the oldest beyond the byte budget (the newest step always stays).
            changes.pruned_by_size = c.execute(
                "DELETE FROM undo_steps WHERE id < ? AND id IN (SELECT id FROM (SELECT id, "
                "SUM(bytes) OVER (ORDER BY id DESC) AS kept FROM undo_steps) WHERE kept > ?)",
                (step_id, self.budget)).rowcount
        return Step(step_id, text, False), result, changes

    def _measure(self, step_id: int) -> None:
        self.db.execute("UPDATE undo_steps SET bytes = (SELECT COALESCE(SUM(LENGTH(sql)), 0) "
                        "FROM undo_log WHERE step = ?) WHERE id = ?", (step_id, step_id))

    def undo(self, step_id: int) -> Changes:
        return self._replay(step_id, undone=True)

    def redo(self, step_id: int) -> Changes:
        return self._replay(step_id, undone=False)

    def _replay(self, step_id: int, undone: bool) -> Changes:
        try:
            return self._run(step_id, undone)
        except sqlite3.IntegrityError as exc:   # a deferred reference, checked at COMMIT
            raise JournalConflict(f"cannot {'undo' if undone else 'redo'}: what it refers to "
                                  f"was deleted elsewhere ({exc})") from None

    def _run(self, step_id: int, undone: bool) -> Changes:
        with self.db.transaction() as c:
            row = c.execute("SELECT text, undone FROM undo_steps WHERE id = ?", (step_id,)).fetchone()
            if row is None:
                raise JournalConflict(f"step {step_id} is no longer in the undo history")
            if bool(row[1]) == undone:
                raise JournalConflict(f"{row[0]!r} is already {'undone' if undone else 'done'}")
            # Rows come back newest change first, so one may briefly refer to a row
            # restored after it: references are checked at commit.
            c.execute("PRAGMA defer_foreign_keys = ON")
            entries = c.execute("SELECT seq, sql FROM undo_log WHERE step = ? ORDER BY seq DESC",
                                (step_id,)).fetchall()
            c.execute("DELETE FROM undo_log WHERE step = ?", (step_id,))
            self._set_flag(step_id)
            try:
                for _seq, sql in entries:
                    try:
                        n = c.execute(sql).rowcount
                    except sqlite3.IntegrityError as exc:
                        raise JournalConflict(f"cannot {'undo' if undone else 'redo'} {row[0]!r}: "
                                              f"the project was changed elsewhere ({exc})") from None
                    if n != 1:
                        raise JournalConflict(f"cannot {'undo' if undone else 'redo'} {row[0]!r}: "
                                              "a row it changed was changed elsewhere")
            finally:
                self._set_flag(None)
            logged = c.execute("SELECT COUNT(*) FROM undo_log WHERE step = ?", (step_id,)).fetchone()[0]
            if logged != len(entries):
                # A statement cascaded into journaled rows the step never touched (a
                # class another writer gave boxes): undoing would take them too.
                raise JournalConflict(f"cannot {'undo' if undone else 'redo'} {row[0]!r}: it would "
                                      "also change rows made elsewhere")
            c.execute("UPDATE undo_steps SET undone = ? WHERE id = ?", (int(undone), step_id))
            self._measure(step_id)
            changes = self._changes(step_id)
        return changes

    # -- the history -------------------------------------------------------------------
    def history(self) -> list[Step]:
        """Every step, oldest first: the done ones, then the undone ones."""
        return [Step(i, t, bool(u)) for i, t, u in self.db.execute(
            "SELECT id, text, undone FROM undo_steps ORDER BY undone, id")]

    def clear(self) -> None:
        with self.db.transaction() as c:
            c.execute("DELETE FROM undo_steps")

    def size(self) -> tuple[int, int]:
        """(steps, log entries) kept."""
        return (self.db.execute("SELECT COUNT(*) FROM undo_steps").fetchone()[0],
                self.db.execute("SELECT COUNT(*) FROM undo_log").fetchone()[0])

    def bytes(self) -> int:
        return self.db.execute("SELECT COALESCE(SUM(bytes), 0) FROM undo_steps").fetchone()[0]

    # -- helpers -----------------------------------------------------------------------
    def _set_flag(self, step_id: int | None) -> None:
        self.db.execute(f"UPDATE temp.{_FLAG} SET step = ?", (step_id,))

    def _changes(self, step_id: int) -> Changes:
        changes = Changes()
        for table, media_id in self.db.execute(
                "SELECT DISTINCT tbl, media_id FROM undo_log WHERE step = ?", (step_id,)):
            media = changes.tables.setdefault(table, set())
            if media_id is not None:
                media.add(media_id)
        return changes


def _triggers(conn: sqlite3.Connection, table: str, condition: str | None) -> list[str]:
    """TEMP triggers that log the reverse of every row change of ``table``."""
    info = conn.execute(f"PRAGMA main.table_info({table})").fetchall()
    cols = [r[1] for r in info]
    keys = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]] or ["rowid"]
    media = "media_id" in cols

    def values(r: str) -> str:
        return "||','||".join(f"quote({r}.{c})" for c in cols)

    def where(r: str) -> str:
        return "||' AND '||".join(f"'{k}='||quote({r}.{k})" for k in keys)

    def when(*rows: str) -> str:
        active = f"(SELECT step FROM {_FLAG}) IS NOT NULL"
        if not condition:
            return active
        return f"{active} AND ({' OR '.join(condition.format(r=r) for r in rows)})"

    def log(r: str, sql: str) -> str:
        return (f"INSERT INTO undo_log (step, tbl, media_id, sql) VALUES "
                f"((SELECT step FROM {_FLAG}), '{table}', {f'{r}.media_id' if media else 'NULL'}, {sql});")

    # Only the columns that changed are put back (a moved box: its corners and stamp),
    # and an update that changed nothing is not logged.
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in cols)
    sets = "substr(" + "||".join(
        f"CASE WHEN OLD.{c} IS NOT NEW.{c} THEN ',{c}='||quote(OLD.{c}) ELSE '' END"
        for c in cols) + ", 2)"
    name = f"kestrel_undo_{table}"
    return [
        f"CREATE TEMP TRIGGER IF NOT EXISTS {name}_insert AFTER INSERT ON main.{table} "
        f"WHEN {when('NEW')} BEGIN "
        + log("NEW", f"'DELETE FROM {table} WHERE '||{where('NEW')}") + " END",
        f"CREATE TEMP TRIGGER IF NOT EXISTS {name}_update AFTER UPDATE ON main.{table} "
        f"WHEN {when('OLD', 'NEW')} AND ({changed}) BEGIN "
        + log("OLD", f"'UPDATE {table} SET '||{sets}||' WHERE '||{where('NEW')}") + " END",
        f"CREATE TEMP TRIGGER IF NOT EXISTS {name}_delete BEFORE DELETE ON main.{table} "
        f"WHEN {when('OLD')} BEGIN "
        + log("OLD", f"'INSERT INTO {table} ({', '.join(cols)}) VALUES ('||{values('OLD')}||')'")
        + " END",
    ]
