import sqlite3
import threading

import pytest

from app.store import schema
from app.store.project import Project, ProjectError


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "proj")
    yield p
    p.close()


def test_new_project_is_wal_with_foreign_keys_and_current_schema(project):
    c = project.conn
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert schema.version(c) == schema.SCHEMA_VERSION


def test_create_refuses_existing_project_and_open_refuses_plain_folder(tmp_path, project):
    with pytest.raises(ProjectError, match="already a Kestrel project"):
        Project.create(project.root)
    (tmp_path / "plain").mkdir()
    with pytest.raises(ProjectError, match="not a Kestrel project"):
        Project.open(tmp_path / "plain")


def test_class_box_tag_crud(project):
    media_id = _fake_image(project)
    cat = project.classes.add("cat")
    dog = project.classes.add("dog", color="#123456")
    assert [c.name for c in project.classes.all()] == ["cat", "dog"]
    assert [c.hotkey for c in project.classes.all()] == ["1", "2"]
    b1 = project.boxes.add_one(media_id, cat, 30, 40, 10, 20)  # corners given swapped
    assert project.boxes.get(b1).rect == (10, 20, 30, 40)
    project.boxes.update(b1, x2=50.5, class_id=dog)
    assert project.boxes.get(b1).x2 == 50.5 and project.boxes.get(b1).class_id == dog
    project.boxes.add_one(media_id, cat, 0, 0, 5, 5)
    project.classes.update(cat, name="kitten", color="#ff0000")
    project.classes.reorder([dog, cat])
    assert [c.name for c in project.classes.all()] == ["dog", "kitten"]
    assert project.classes.delete(cat) == 1          # its box goes with it
    assert [b.id for b in project.boxes.of(media_id)] == [b1]
    project.boxes.delete([b1])
    assert project.boxes.of(media_id) == []
    tag = project.tags.add("outdoor")
    project.tags.set(media_id, tag, True)
    project.tags.set(media_id, tag, True)      # idempotent
    assert project.tags.of(media_id) == {tag}
    assert project.tags.delete(tag) == [media_id]
    assert project.tags.of(media_id) == set()


def test_invalid_edits_are_refused(project):
    media_id = _fake_image(project)
    with pytest.raises(ValueError):
        project.classes.add("  ")
    with pytest.raises(sqlite3.IntegrityError):
        project.boxes.add_one(media_id, 999, 0, 0, 1, 1)   # no such class: foreign key
    cat = project.classes.add("cat")
    with pytest.raises(ValueError, match="source"):
        project.boxes.add_one(media_id, cat, 0, 0, 1, 1, source="guessed")
    with pytest.raises(ValueError, match="cannot edit"):
        project.boxes.update(project.boxes.add_one(media_id, cat, 0, 0, 1, 1), media_id=5)


def test_failed_transaction_keeps_nothing(project):
    media_id = _fake_image(project)
    cat = project.classes.add("cat")
    with pytest.raises(RuntimeError):
        with project.transaction():
            project.boxes.add_one(media_id, cat, 0, 0, 1, 1)   # nested: a savepoint
            raise RuntimeError("boom")
    assert project.boxes.of(media_id) == []


def test_edits_survive_reopen(tmp_path, project):
    media_id = _fake_image(project)
    box = project.boxes.add_one(media_id, project.classes.add("cat"), 1, 2, 3, 4)
    project.settings.set("last_media", str(media_id))
    project.close()
    again = Project.open(tmp_path / "proj")
    assert again.boxes.get(box).rect == (1, 2, 3, 4)
    assert again.settings.get("last_media") == str(media_id)
    again.close()


def test_migration_from_schema_1_keeps_data(tmp_path):
    db = tmp_path / "old" / "kestrel.db"
    db.parent.mkdir()
    conn = sqlite3.connect(db, isolation_level=None)
    schema.migrate(conn, target=1)
    conn.execute("INSERT INTO classes (name, color, position) VALUES ('cat', '#fff', 0)")
    conn.close()
    project = Project.open(db.parent)
    assert schema.version(project.conn) == schema.SCHEMA_VERSION
    assert [c.name for c in project.classes.all()] == ["cat"]
    project.settings.set("k", "v")                  # a v2 table exists now
    assert project.settings.get("k") == "v"
    project.close()


def test_project_from_a_newer_kestrel_is_refused(tmp_path, project):
    project.conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    project.close()
    with pytest.raises(ProjectError, match="newer Kestrel"):
        Project.open(tmp_path / "proj")


def test_reader_sees_committed_state_while_a_writer_works(tmp_path, project):
    media_id = _fake_image(project)
    cat = project.classes.add("cat")
    counts, errors = [], []
    stop = threading.Event()

    def read():
        # sqlite connections belong to their thread: the reader opens its own.
        reader = Project.open(tmp_path / "proj")
        try:
            while not stop.is_set():
                counts.append(reader.boxes.count(media_id))
        except Exception as exc:
            errors.append(exc)
        finally:
            reader.close()

    t = threading.Thread(target=read)
    t.start()
    for i in range(200):
        with project.transaction():
            project.boxes.add_one(media_id, cat, i, i, i + 1, i + 1)
            project.boxes.add_one(media_id, cat, i, i, i + 2, i + 2)
    stop.set()
    t.join()
    assert not errors
    assert counts, "the reader never read"
    # Each transaction adds two boxes: a reader never sees a half-done one.
    assert all(n % 2 == 0 for n in counts)
    assert counts == sorted(counts)


def test_info_counts(project):
    media_id = _fake_image(project)
    cat = project.classes.add("cat")
    project.boxes.add_one(media_id, cat, 0, 0, 1, 1)
    project.boxes.add_one(media_id, cat, 0, 0, 1, 1, source="predicted", score=0.4)
    project.tags.set(media_id, project.tags.add("indoor"), True)
    project.runs.add(name="r1", task="detector", template="t", run_dir="runs/1")
    info = project.info()
    assert info["images"] == 1 and info["videos"] == 0
    assert info["boxes"] == 1 and info["boxes_per_class"] == {"cat": 1}   # predictions are not labels
    assert info["tags"] == {"indoor": 1} and info["runs"] == 1


def test_runs_record_status_and_metrics(project):
    run = project.runs.add(name="r", task="detector", template="fasterrcnn", run_dir="runs/r",
                          hyperparameters={"epochs": 3})
    project.runs.update(run, status="finished", best_metric=0.5, metrics={"mAP50": 0.7})
    r = project.runs.get(run)
    assert r.status == "finished" and r.finished_at and r.metrics == {"mAP50": 0.7}
    assert r.hyperparameters == {"epochs": 3}
    with pytest.raises(ValueError):
        project.runs.update(run, status="exploded")


def _fake_image(project) -> int:
    from app.store.probe import MediaInfo
    from pathlib import Path

    info = MediaInfo(Path("/nowhere/a.jpg"), "image", 640, 480, "hash", 10)
    with project.transaction():
        return project.media.add_row(info, "/nowhere/a.jpg", "a.jpg")


def test_browse_filters_and_rows(project):
    from app.store import browse
    from app.store.probe import MediaInfo
    from pathlib import Path

    with project.transaction():
        ids = [project.media.add_row(MediaInfo(Path(f"/m/{i}.jpg"), "image", 10, 10, "h", 1),
                                     f"/m/{i}.jpg", f"{i}.jpg") for i in range(5)]
    cat, dog = project.classes.add("cat"), project.classes.add("dog")
    project.boxes.add_one(ids[0], cat, 0, 0, 1, 1)
    project.boxes.add_one(ids[0], dog, 0, 0, 1, 1)
    project.boxes.add_one(ids[1], dog, 0, 0, 1, 1)
    project.boxes.add_one(ids[3], cat, 0, 0, 1, 1, source="predicted", score=0.9)  # not a label
    project.tags.set(ids[2], project.tags.add("night"), True)     # a tag is not a box label
    project.status.set_mark(ids[2], 0, "empty")                   # but "no objects" is
    project.status.set_mark(ids[4], 0, "review")
    assert browse.filtered_ids(project) == ids
    assert browse.filtered_ids(project, "unlabelled") == [ids[3]]
    assert browse.filtered_ids(project, "labelled") == ids[:3]
    assert browse.filtered_ids(project, "empty") == [ids[2]]
    assert browse.filtered_ids(project, "review") == [ids[4]]
    assert browse.filtered_ids(project, "untagged") == [ids[0], ids[1], ids[3], ids[4]]
    assert browse.filtered_ids(project, "class", "cat") == [ids[0]]
    assert browse.filtered_ids(project, "tag", "night") == [ids[2]]
    assert browse.filtered_ids(project, order="status") == [ids[4], ids[3], ids[2], ids[0], ids[1]]
    rows = browse.rows_for(project, ids)
    assert rows[ids[0]].box_count == 2 and rows[ids[3]].box_count == 0
    assert rows[ids[2]].tags == ("night",)
    assert [rows[i].label_status for i in ids] == ["labelled", "labelled", "empty", "unlabelled",
                                                   "review"]
    assert browse.next_unlabelled(project, ids[0]) == ids[3]
    assert browse.next_unlabelled(project, ids[3]) == ids[3]  # wraps around
