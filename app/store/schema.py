"""Schema of ``kestrel.db`` and its forward migrations.

The version lives in ``PRAGMA user_version``. Each migration is a list of statements
applied in one transaction; a project written by an older Kestrel is upgraded on
open, and one written by a newer Kestrel is refused rather than damaged.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Callable, Union

_V1 = [
    """CREATE TABLE media (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,          -- posix, relative when inside the project folder
        name TEXT NOT NULL,                 -- name inside datasets (export file_name)
        kind TEXT NOT NULL CHECK (kind IN ('image', 'video')),
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        fps REAL,
        frame_count INTEGER,
        content_hash TEXT NOT NULL,
        file_size INTEGER NOT NULL,
        added_at TEXT NOT NULL
    )""",
    "CREATE INDEX media_hash ON media (content_hash)",
    """CREATE TABLE classes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        color TEXT NOT NULL,
        position INTEGER NOT NULL,
        hotkey TEXT
    )""",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        task TEXT NOT NULL,
        template TEXT NOT NULL,
        hyperparameters TEXT NOT NULL DEFAULT '{}',
        run_dir TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'running',
        created_at TEXT NOT NULL,
        finished_at TEXT,
        best_metric REAL,
        metrics TEXT NOT NULL DEFAULT '{}',
        message TEXT,
        dataset TEXT NOT NULL DEFAULT '{}'
    )""",
    """CREATE TABLE boxes (
        id INTEGER PRIMARY KEY,
        media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,
        frame INTEGER NOT NULL DEFAULT 0,
        class_id INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
        x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
        track_id INTEGER,
        source TEXT NOT NULL DEFAULT 'manual'
            CHECK (source IN ('manual', 'predicted', 'interpolated')),
        score REAL,
        run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,
        author TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX boxes_media_frame ON boxes (media_id, frame)",
    """CREATE TABLE tags (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        position INTEGER NOT NULL,
        hotkey TEXT
    )""",
    """CREATE TABLE media_tags (
        media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,
        tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
        PRIMARY KEY (media_id, tag_id)
    )""",
]

# v2: per-project settings (last media viewed, active model, …) and the class index
# that "boxes per class" and the class filter of the media browser read.
_V2 = [
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE INDEX boxes_class ON boxes (class_id)",
    "CREATE INDEX media_tags_tag ON media_tags (tag_id)",
]

# v3: video labelling. A track marked "outside" from a frame on has no boxes from
# there until its next keyframe; each video keeps its frame-sampling spec (JSON).
_V3 = [
    """CREATE TABLE track_events (
        media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,
        track_id INTEGER NOT NULL,
        frame INTEGER NOT NULL,
        kind TEXT NOT NULL DEFAULT 'outside' CHECK (kind IN ('outside')),
        PRIMARY KEY (media_id, track_id, frame, kind)
    )""",
    """CREATE TABLE video_sampling (
        media_id INTEGER PRIMARY KEY REFERENCES media (id) ON DELETE CASCADE,
        spec TEXT NOT NULL
    )""",
    "CREATE INDEX boxes_track ON boxes (media_id, track_id, frame)",
]

# v4: model predictions. Predicted boxes stay in ``boxes`` (source 'predicted', run_id,
# score), which every label view already skips; ``prediction_frames`` records which
# (run, media, frame) the model has seen, so "no boxes" and "not predicted yet" differ.
_V4 = [
    """CREATE TABLE prediction_frames (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,
        frame INTEGER NOT NULL,
        PRIMARY KEY (run_id, media_id, frame)
    )""",
    "CREATE INDEX boxes_run ON boxes (run_id, media_id, frame)",
]

# v5: embeddings per run (image, sampled frame or box) for visual search and the
# tag classifier; box_id is 0 for images and frames (vanished boxes are pruned).
_V5 = [
    """CREATE TABLE embeddings (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('image', 'frame', 'box')),
        media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,
        frame INTEGER NOT NULL DEFAULT 0,
        box_id INTEGER NOT NULL DEFAULT 0,
        stamp TEXT NOT NULL DEFAULT '',
        vector BLOB NOT NULL,
        PRIMARY KEY (run_id, kind, media_id, frame, box_id)
    )""",
]

# v6: a dataset's own split travels with its images: train / val / test per media row
# (NULL: none; training then splits at random). A video's frames share its split.
_V6_SPLITS = [
    "ALTER TABLE media ADD COLUMN split TEXT CHECK (split IN ('train', 'val', 'test'))",
]


def _autoincrement(table: str) -> Callable[[sqlite3.Connection], None]:
    """Rebuild ``table`` with ``id INTEGER PRIMARY KEY AUTOINCREMENT``, columns and
    indexes as they are now (whatever earlier migrations added), so an id is never
    handed out twice: undo puts deleted rows back under their old id, which another
    writer must not have taken meanwhile. SQLite's 12-step rebuild; ``migrate`` runs
    it with foreign keys off and checks them before committing."""

    def rebuild(conn: sqlite3.Connection) -> None:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                           (table,)).fetchone()[0]
        if "AUTOINCREMENT" in sql.upper():
            return
        new = f"{table}_rebuilt"
        sql, n = re.subn(rf'^CREATE TABLE "?{table}"?', f"CREATE TABLE {new}", sql, count=1)
        sql, m = re.subn(r"\bid INTEGER PRIMARY KEY\b", "id INTEGER PRIMARY KEY AUTOINCREMENT",
                         sql, count=1, flags=re.IGNORECASE)
        if not (n and m):
            raise SchemaError(f"cannot rebuild table {table}: unexpected schema")
        indexes = [r[0] for r in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL", (table,))]
        conn.execute(sql)
        conn.execute(f"INSERT INTO {new} SELECT * FROM {table}")
        conn.execute(f"DROP TABLE {table}")
        conn.execute(f"ALTER TABLE {new} RENAME TO {table}")
        for index in indexes:
            conn.execute(index)

    return rebuild


# v7: the persistent undo journal (app.store.journal). One user edit is one row of
# ``undo_steps``; ``undo_log`` holds the SQL that reverses each row it changed (or,
# once undone, the SQL that redoes it), written by the GUI connection's TEMP triggers
# in the same transaction as the edit. Label tables never reuse an id (see above).
_V7_JOURNAL = [
    _autoincrement("boxes"),
    _autoincrement("classes"),
    _autoincrement("tags"),
    """CREATE TABLE undo_steps (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        text TEXT NOT NULL,                 -- as the Edit menu shows it: "Move box"
        undone INTEGER NOT NULL DEFAULT 0,  -- 1: on the redo side of the history
        bytes INTEGER NOT NULL DEFAULT 0,   -- size of its log (the history is bounded by it)
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE undo_log (
        seq INTEGER PRIMARY KEY,
        step INTEGER NOT NULL REFERENCES undo_steps (id) ON DELETE CASCADE,
        tbl TEXT NOT NULL,                  -- the table the row belongs to
        media_id INTEGER,                   -- the row's media, when it has one
        sql TEXT NOT NULL                   -- reverses the row change
    )""",
    "CREATE INDEX undo_log_step ON undo_log (step, seq)",
]

# v8: labelling status. A picture (an image, or one frame of a video) is *labelled* when
# it has label boxes or the user marked it "no objects" ('empty'); a 'review' mark says
# its labels need another look. Nothing here: not labelled yet. Marks are user edits,
# journaled like boxes. Projects written before v8 knew no status: their images with
# boxes or tags counted as labelled, so the tagged ones without boxes are marked empty.
_V8_LABEL_STATUS = [
    """CREATE TABLE label_marks (
        media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,
        frame INTEGER NOT NULL DEFAULT 0,
        mark TEXT NOT NULL CHECK (mark IN ('empty', 'review')),
        PRIMARY KEY (media_id, frame, mark)
    )""",
    """INSERT INTO label_marks (media_id, frame, mark)
        SELECT m.id, 0, 'empty' FROM media m WHERE m.kind = 'image'
        AND EXISTS (SELECT 1 FROM media_tags t WHERE t.media_id = m.id)
        AND NOT EXISTS (SELECT 1 FROM boxes b WHERE b.media_id = m.id AND b.source != 'predicted')""",
]

# v9: what to label next (app.next). Per detector run, each picture's uncertainty score
# (cached per model); feature vectors per source ('run:<id>' pooled detector backbone,
# 'imagenet', 'pixels') for diversity and near-duplicates; the user's decisions on the
# model's proposals (pre-labels), journaled like labels so accept / edit / delete undo;
# near-duplicate groups, kept on one side of a training split.
_V9_LABEL_NEXT = [
    """CREATE TABLE next_scores (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,
        frame INTEGER NOT NULL DEFAULT 0,
        score REAL NOT NULL,           -- mean of the top-k box uncertainties
        entropy REAL NOT NULL,         -- the class-score part of it
        instability REAL NOT NULL,     -- the flip-consistency part of it
        boxes INTEGER NOT NULL,        -- detections that counted
        PRIMARY KEY (run_id, media_id, frame)
    )""",
    """CREATE TABLE next_features (
        source TEXT NOT NULL,
        media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,
        frame INTEGER NOT NULL DEFAULT 0,
        vector BLOB NOT NULL,
        PRIMARY KEY (source, media_id, frame)
    )""",
    """CREATE TABLE proposal_decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL,
        media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,
        frame INTEGER NOT NULL DEFAULT 0,
        prediction_id INTEGER NOT NULL,   -- the predicted box it was about (no reference:
                                          -- predictions are replaced, decisions stay)
        outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'edited', 'deleted')),
        box_id INTEGER,                   -- the label it became
        UNIQUE (run_id, prediction_id)
    )""",
    "CREATE INDEX proposal_decisions_media ON proposal_decisions (media_id, frame)",
    """CREATE TABLE duplicate_groups (
        media_id INTEGER PRIMARY KEY REFERENCES media (id) ON DELETE CASCADE,
        grp INTEGER NOT NULL
    )""",
]


# v10: what visual search must send to a vector store. Every change to what a search
# filter reads (labelled boxes, tags, a split, embeddings, media) marks its media in
# ``search_changes``, whoever writes (the window, its undo, a CLI, a worker); a store
# remembers the last ``seq`` it took in and, at its next sync, re-reads only the media
# marked after it. One row per media: a new mark deletes the old one and takes a new,
# higher seq (AUTOINCREMENT never reuses one). Delete-then-insert, not INSERT OR
# REPLACE: a trigger's conflict clause is overridden by the outer statement's (INSERT
# OR IGNORE). ``search_gone`` keeps the keys of embeddings deleted while their media
# and run remain (a vanished box's vector), so a store can drop exactly those points
# without listing what it holds; a key embedded again leaves it.
def _search_mark(row: str, media: str = "media_id") -> str:
    return (f"DELETE FROM search_changes WHERE media_id = {row}.{media}; "
            f"INSERT INTO search_changes (media_id) VALUES ({row}.{media});")


_GONE_KEY = ("media_id = {r}.media_id AND run_id = {r}.run_id AND kind = {r}.kind "
             "AND frame = {r}.frame AND box_id = {r}.box_id")

_V10_SEARCH_CHANGES = [
    """CREATE TABLE search_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        media_id INTEGER NOT NULL UNIQUE
    )""",
    """CREATE TABLE search_gone (
        media_id INTEGER NOT NULL,
        run_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        frame INTEGER NOT NULL,
        box_id INTEGER NOT NULL,
        PRIMARY KEY (media_id, run_id, kind, frame, box_id)
    ) WITHOUT ROWID""",
    # a store re-reads the embeddings of a few media; a media's delete cascades here
    "CREATE INDEX embeddings_media ON embeddings (media_id, run_id)",
    "CREATE TRIGGER search_boxes_insert AFTER INSERT ON boxes "
    f"WHEN NEW.source != 'predicted' BEGIN {_search_mark('NEW')} END",
    "CREATE TRIGGER search_boxes_delete AFTER DELETE ON boxes "
    f"WHEN OLD.source != 'predicted' BEGIN {_search_mark('OLD')} END",
    "CREATE TRIGGER search_boxes_update AFTER UPDATE OF media_id, frame, class_id, source ON boxes "
    "WHEN OLD.source != 'predicted' OR NEW.source != 'predicted' "
    f"BEGIN {_search_mark('OLD')} {_search_mark('NEW')} END",
    f"CREATE TRIGGER search_tags_insert AFTER INSERT ON media_tags BEGIN {_search_mark('NEW')} END",
    f"CREATE TRIGGER search_tags_delete AFTER DELETE ON media_tags BEGIN {_search_mark('OLD')} END",
    "CREATE TRIGGER search_media_split AFTER UPDATE OF split ON media "
    f"BEGIN {_search_mark('NEW', 'id')} END",
    "CREATE TRIGGER search_media_delete AFTER DELETE ON media "
    f"BEGIN {_search_mark('OLD', 'id')} DELETE FROM search_gone WHERE media_id = OLD.id; END",
    "CREATE TRIGGER search_embeddings_insert AFTER INSERT ON embeddings "
    f"BEGIN {_search_mark('NEW')} DELETE FROM search_gone WHERE {_GONE_KEY.format(r='NEW')}; END",
    # In a cascade from a media or run delete the parent is already gone: nothing kept.
    "CREATE TRIGGER search_embeddings_delete AFTER DELETE ON embeddings "
    f"BEGIN {_search_mark('OLD')} "
    "INSERT OR IGNORE INTO search_gone (media_id, run_id, kind, frame, box_id) "
    "SELECT OLD.media_id, OLD.run_id, OLD.kind, OLD.frame, OLD.box_id "
    "WHERE EXISTS (SELECT 1 FROM media WHERE id = OLD.media_id) "
    "AND EXISTS (SELECT 1 FROM runs WHERE id = OLD.run_id); END",
]


Statement = Union[str, Callable[[sqlite3.Connection], None]]
MIGRATIONS: list[list[Statement]] = [_V1, _V2, _V3, _V4, _V5, _V6_SPLITS, _V7_JOURNAL,
                                     _V8_LABEL_STATUS, _V9_LABEL_NEXT, _V10_SEARCH_CHANGES]
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaError(RuntimeError):
    pass


def version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to ``target``; returns the version it started from."""
    start = version(conn)
    if start > SCHEMA_VERSION:
        raise SchemaError(
            f"this project was written by a newer Kestrel (schema {start}, "
            f"this version knows up to {SCHEMA_VERSION})"
        )
    if start == target:
        return start
    # Foreign keys off while tables are rebuilt (a DROP would cascade), checked
    # before each commit; the setting cannot change inside a transaction.
    foreign_keys = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for number in range(start + 1, target + 1):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[number - 1]:
                    statement(conn) if callable(statement) else conn.execute(statement)
                broken = conn.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise SchemaError(f"migration {number} broke {len(broken)} references")
                conn.execute(f"PRAGMA user_version = {number}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
    finally:
        conn.execute(f"PRAGMA foreign_keys = {int(foreign_keys)}")
    return start
