"""The persistent undo journal: undo/redo through kestrel.db, reloaded on reopen,
untouched by other connections, safe against another writer's changes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.labels.document import Document
from app.store import schema
from app.store.probe import MediaInfo
from app.store.project import Project


def _project(folder: Path, images: int = 2) -> Project:
    project = Project.create(folder)
    with project.transaction():
        for i in range(images):
            info = MediaInfo(Path(f"/x/{i}.jpg"), "image", 100, 80, f"h{i}", 1)
            project.media.add_row(info, f"/x/{i}.jpg", f"{i}.jpg")
    return project


@pytest.fixture
def folder(tmp_path):
    _project(tmp_path / "p").close()
    return tmp_path / "p"


def _texts(doc):
    stack = doc.undo_stack
    return [stack.text(i) for i in range(stack.count())], stack.index()


def _labels(project):
    return [(b.id, b.class_id, b.rect) for m in project.media.ids() for b in project.boxes.labels(m)]


def test_history_reloads_on_reopen_with_texts_and_redo_side(folder, qapp):
    with Project.open(folder) as p:
        doc = Document(p)
        cat = doc.add_class("cat")
        box = doc.add_box(1, cat, (10, 10, 30, 40))
        doc.move_boxes([(box, 15, 12, 35, 42)])
        tag = doc.add_tag("outdoor")
        doc.set_tag([2], tag, True)
        doc.undo_stack.undo()                      # untag: on the redo side now
        expect = _texts(doc)
        labels = _labels(p)
    assert expect == (["Add class cat", "Add box", "Move box", "Add tag outdoor", "Tag outdoor"], 4)
    with Project.open(folder) as p:
        doc = Document(p)
        assert _texts(doc) == expect and _labels(p) == labels
        changed = []
        doc.boxes_changed.connect(changed.append)
        doc.undo_stack.undo()                      # Add tag
        doc.undo_stack.undo()                      # Move box
        assert _labels(p) == [(box, cat, (10, 10, 30, 40))] and changed == [{1}]
        doc.undo_stack.redo()
        doc.undo_stack.redo()
        doc.undo_stack.redo()                      # Tag outdoor, undone in the last session
        assert p.tags.of(2) == {tag}
        assert _labels(p) == [(box, cat, (15, 12, 35, 42))]


def test_a_killed_window_keeps_its_undo_history(folder):
    script = textwrap.dedent(f"""
        import os, signal
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from app.labels.document import Document
        from app.store.project import Project
        doc = Document(Project.open({str(folder)!r}))
        cat = doc.add_class("cat")
        box = doc.add_box(1, cat, (1, 2, 30, 40))
        doc.delete_boxes([box])
        doc.undo_stack.undo()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, cwd=Path.cwd())
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    with Project.open(folder) as p:
        doc = Document(p)
        assert _texts(doc) == (["Add class cat", "Add box", "Delete box"], 2)
        assert [b.rect for b in p.boxes.of(1)] == [(1, 2, 30, 40)]
        doc.undo_stack.redo()
        assert p.boxes.of(1) == []
        doc.undo_stack.setIndex(0)
        assert p.classes.all() == [] and p.boxes.of(1) == []


def test_other_connections_and_predictions_are_not_journaled(folder, qapp, qtbot):
    with Project.open(folder) as p:
        doc = Document(p)
        cat = doc.add_class("cat")
        with Project.open(folder) as other:       # kestrel import, a worker, Predict all
            dog = other.classes.add("dog")
            theirs = other.boxes.add_one(1, cat, 1, 1, 5, 5)
        p.boxes.add_one(2, cat, 0, 0, 9, 9, source="predicted", score=0.9)
        p.tags.add("not via the document")
        assert doc.journal.size() == (1, 1)        # only "Add class cat"
        assert _texts(doc) == (["Add class cat"], 1)
        # Undoing "Add class cat" would delete the other writer's box of that class
        # (a cascade): refused, nothing lost, the history reset.
        failures = []
        doc.history_failed.connect(failures.append)
        doc.undo_stack.undo()
        assert failures and "made elsewhere" in failures[0]
        qtbot.waitUntil(lambda: doc.undo_stack.count() == 0)
        assert {c.id for c in p.classes.all()} == {cat, dog} and p.boxes.get(theirs).class_id == cat


def test_deleting_a_class_or_tag_undoes_and_redoes_row_by_row(folder, qapp):
    with Project.open(folder) as p:
        doc = Document(p)
        cat, dog = doc.add_class("cat"), doc.add_class("dog")
        boxes = [doc.add_box(m, cat, (m, m, m + 5, m + 5)) for m in (1, 2)]
        doc.add_box(1, dog, (0, 0, 1, 1))
        tag = doc.add_tag("outdoor")
        doc.set_tag([1, 2], tag, True)
        labels = _labels(p)
        changed = []
        doc.boxes_changed.connect(changed.append)
        doc.delete_class(cat)
        doc.delete_tag(tag)
        assert changed == [{1, 2}] and p.tags.all() == [] and p.tags.pairs() == []
        for _ in range(3):
            doc.undo_stack.undo()
            doc.undo_stack.undo()
            assert _labels(p) == labels and p.tags.pairs() == [(1, tag), (2, tag)]
            doc.undo_stack.redo()
            doc.undo_stack.redo()
            assert [b[0] for b in _labels(p)] == [boxes[-1] + 1] and p.tags.all() == []


def test_an_id_is_never_handed_out_twice(folder, qapp):
    with Project.open(folder) as p:
        doc = Document(p)
        cat = doc.add_class("cat")
        a = doc.add_box(1, cat, (0, 0, 5, 5))
        b = doc.add_box(1, cat, (1, 1, 6, 6))      # the highest id
        doc.delete_boxes([b])
        with Project.open(folder) as other:      # a prediction arrives meanwhile
            new = other.boxes.add_one(1, cat, 2, 2, 7, 7, source="predicted", score=0.5)
        assert new not in (a, b)
        doc.undo_stack.undo()
        assert p.boxes.get(b).rect == (1, 1, 6, 6)


def test_a_row_changed_elsewhere_stops_the_undo_and_clears_history(folder, qapp, qtbot):
    with Project.open(folder) as p:
        doc = Document(p)
        cat = doc.add_class("cat")
        box = doc.add_box(1, cat, (0, 0, 5, 5))
        doc.move_boxes([(box, 10, 10, 20, 20)])
        with Project.open(folder) as other:
            other.boxes.delete([box])
        failures = []
        doc.history_failed.connect(failures.append)
        doc.undo_stack.undo()
        assert failures and "changed elsewhere" in failures[0]
        qtbot.waitUntil(lambda: doc.undo_stack.count() == 0)
        assert doc.journal.size() == (0, 0)
        assert p.boxes.of(1) == [] and [c.name for c in p.classes.all()] == ["cat"]


def test_history_is_bounded(folder, qapp):
    with Project.open(folder) as p:
        doc = Document(p)
        doc.journal.limit = 5
        doc.undo_stack.clear()
        doc.undo_stack.setUndoLimit(5)
        cat = doc.add_class("cat")
        box = doc.add_box(1, cat, (0, 0, 5, 5))
        for i in range(20):
            doc.move_boxes([(box, i, i, i + 5, i + 5)])
        assert doc.journal.size() == (5, 5) and doc.undo_stack.count() == 5
        doc.undo_stack.setIndex(0)
        assert p.boxes.get(box).rect == (14, 14, 19, 19)


def test_a_version_5_project_is_upgraded_with_its_ids(tmp_path, qapp):
    conn = sqlite3.connect(tmp_path / "kestrel.db", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    schema.migrate(conn, 5)
    conn.execute("INSERT INTO media VALUES (1, 'a.jpg', 'a.jpg', 'image', 10, 10, NULL, NULL, "
                 "'h', 1, 'now')")
    conn.execute("INSERT INTO classes VALUES (7, 'cat', '#fff', 0, '1')")
    conn.execute("INSERT INTO boxes (id, media_id, class_id, x1, y1, x2, y2, created_at, "
                 "updated_at) VALUES (40, 1, 7, 0, 0, 1, 1, 'now', 'now')")
    conn.close()
    with Project.open(tmp_path) as p:
        assert schema.version(p.conn) == schema.SCHEMA_VERSION
        assert p.boxes.get(40).class_id == 7 and p.classes.get(7).name == "cat"
        indexes = {r[0] for r in p.conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"boxes_media_frame", "boxes_class", "boxes_track", "boxes_run"} <= indexes
        p.classes.delete(7)                           # the cascade still works
        assert p.boxes.count(1) == 0


def test_history_is_bounded_in_bytes_too_and_the_stack_follows(folder, qapp):
    with Project.open(folder) as p:
        doc = Document(p)
        cat = doc.add_class("cat")
        doc.journal.budget = 2000                  # bytes of log: a few box edits
        box = doc.add_box(1, cat, (0, 0, 5, 5))
        for i in range(30):
            doc.move_boxes([(box, i, i, i + 5, i + 5)])
        steps, _ = doc.journal.size()
        assert 1 < steps < 30 and doc.journal.bytes() <= 2000
        assert doc.undo_stack.count() == steps     # the stack dropped what the journal dropped
        doc.undo_stack.setIndex(0)                 # every step kept still undoes
        assert p.boxes.get(box).rect == (29 - steps, 29 - steps, 34 - steps, 34 - steps)


def test_updates_log_only_what_changed_and_no_op_is_no_step(folder, qapp):
    with Project.open(folder) as p:
        doc = Document(p)
        cat = doc.add_class("cat")
        box = doc.add_box(1, cat, (0, 0, 5, 5))
        doc.move_boxes([(box, 0, 0, 5, 9)])        # only y2 changes: only y2 is logged back
        log = p.conn.execute("SELECT sql FROM undo_log ORDER BY seq DESC LIMIT 1").fetchone()[0]
        assert log.startswith("UPDATE boxes SET y2=5.0") and "x1" not in log
        before = doc.journal.size()
        doc.edit("Nothing", lambda p: p.conn.execute("UPDATE classes SET name = name"))
        assert doc.journal.size() == before        # a no-op is no step
