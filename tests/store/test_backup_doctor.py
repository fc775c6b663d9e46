"""Rolling backups, `kestrel doctor`, and opening a damaged project file: truncated,
corrupted, a full disk or a read-only folder while backing up."""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

import pytest

from app.shell.cli import main
from app.store import doctor
from app.store.backup import BackupError, list_backups, make_backup
from app.store.probe import MediaInfo
from app.store.project import Project, ProjectDamaged


def _filled(folder: Path, images: int = 30, boxes: int = 10) -> Project:
    project = Project.create(folder)
    cat = project.classes.add("cat")
    with project.transaction():
        for i in range(images):
            info = MediaInfo(Path(f"/x/{i}.jpg"), "image", 640, 480, f"h{i}", 1)
            m = project.media.add_row(info, f"/x/{i}.jpg", f"{i}.jpg")
            project.boxes.add([dict(media_id=m, class_id=cat, x1=j, y1=j, x2=j + 9, y2=j + 9)
                               for j in range(boxes)])
    return project


def _count(root: Path) -> int:
    with Project.open(root) as p:
        return sum(p.boxes.count(m) for m in p.media.ids())


def _corrupt(db: Path, seed: int = 1) -> None:
    """Scribble over the b-tree page headers past the schema page."""
    rng = random.Random(seed)
    data = bytearray(db.read_bytes())
    for page in range(2, len(data) // 4096):
        data[page * 4096: page * 4096 + 64] = bytes(rng.randrange(256) for _ in range(64))
    db.write_bytes(bytes(data))


def test_backup_is_a_checked_copy_with_uncheckpointed_edits_and_generations_rotate(tmp_path):
    project = _filled(tmp_path / "p")
    project.boxes.add_one(1, 1, 0, 0, 1, 1)              # in the WAL, not yet in kestrel.db
    made = [make_backup(project.root, keep=3) for _ in range(5)]
    assert list_backups(project.root) == made[:-4:-1]     # the newest three, newest first
    assert not list(made[0].parent.glob("*.partial"))
    conn = sqlite3.connect(made[-1])
    assert conn.execute("SELECT COUNT(*) FROM boxes").fetchone()[0] == 301
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"   # one self-contained file
    conn.close()
    project.close()


def test_truncated_and_corrupted_files_are_reported_not_tracebacks(tmp_path, capsys):
    root = tmp_path / "p"
    _filled(root).close()
    db = root / "kestrel.db"
    good = db.read_bytes()
    for damage in ("truncated", "corrupted", "empty"):
        if damage == "truncated":
            db.write_bytes(good[: len(good) // 3])
        elif damage == "corrupted":
            db.write_bytes(good)
            _corrupt(db)
        else:
            db.write_bytes(b"")
        with pytest.raises(ProjectDamaged, match="kestrel doctor"):
            Project.open(root, check=True)
        assert main(["info", str(root)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "is damaged" in err[0] and f"kestrel doctor {root}" in err[0]
        assert doctor.check(db)


def test_doctor_reports_and_restores_the_newest_good_backup(tmp_path, capsys):
    root = tmp_path / "p"
    project = _filled(root)
    make_backup(root)
    project.boxes.add_one(1, 1, 0, 0, 2, 2)
    newest = make_backup(root)
    project.close()
    assert main(["doctor", str(root)]) == 0
    out = capsys.readouterr().out
    assert "ok" in out.splitlines()[0] and newest.name in out

    _corrupt(root / "kestrel.db")
    _corrupt(newest)                                     # the newest backup is damaged too
    assert main(["doctor", str(root)]) == 1
    captured = capsys.readouterr()
    assert "DAMAGED" in captured.out and f"kestrel doctor {root} --restore" in captured.err
    damaged_bytes = (root / "kestrel.db").read_bytes()
    assert main(["doctor", str(root), "--restore"]) == 0
    restored = [line for line in capsys.readouterr().out.splitlines() if line.startswith("restored")]
    assert len(restored) == 1 and newest.name not in restored[0]   # the older, good one
    assert _count(root) == 300 and doctor.check(root / "kestrel.db") == []
    aside = next((root / "kestrel-backups").glob("damaged-*/kestrel.db"))
    assert aside.read_bytes() == damaged_bytes           # set aside, not deleted


def test_restore_is_refused_while_the_project_is_open(tmp_path, capsys):
    root = tmp_path / "p"
    project = _filled(root)
    make_backup(root)
    assert main(["doctor", str(root), "--restore"]) == 2  # healthy: needs --force
    assert "--force" in capsys.readouterr().err
    assert main(["doctor", str(root), "--restore", "--force"]) == 2
    assert "open in Kestrel" in capsys.readouterr().err
    project.close()
    assert main(["doctor", str(root), "--restore", "--force"]) == 0


def test_backup_on_a_full_disk_fails_cleanly_and_harms_nothing(small_disk):
    disk = small_disk("3M")
    project = _filled(disk.folder / "p", images=60)
    first = make_backup(project.root)
    project.boxes.add_one(1, 1, 0, 0, 3, 3)
    disk.fill(leave=8192)
    with pytest.raises(BackupError, match="disk is full"):
        make_backup(project.root)
    assert list_backups(project.root) == [first]
    assert not list(first.parent.glob("*.partial"))
    assert project.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert project.boxes.count(1) == 11
    disk.free_up()
    assert make_backup(project.root) != first            # works again once there is room
    project.close()


def test_backup_into_a_read_only_folder_fails_cleanly(small_disk, tmp_path):
    project = _filled(tmp_path / "p")
    disk = small_disk("1M", "p/kestrel-backups")         # the backups' folder alone
    disk.read_only()
    with pytest.raises(BackupError, match="read-only"):
        make_backup(project.root)
    assert project.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    project.close()
    assert _count(tmp_path / "p") == 300


def test_import_on_a_full_disk_rolls_back_and_says_so(small_disk, tmp_path, capsys):
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(400):
        Image.new("RGB", (8, 8), (i % 256, 0, 0)).save(photos / f"img_{i:03d}_{'x' * 80}.png")
    disk = small_disk("2M")
    root = disk.folder / "p"
    _filled(root, images=5).close()
    disk.fill(leave=48 * 1024)
    assert main(["import", str(root), str(photos)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "disk is full" in err[0] and "rolled back" in err[0], err
    disk.free_up()
    assert doctor.check(root / "kestrel.db") == []
    with Project.open(root) as p:
        assert p.media.count() == 5                      # nothing half-imported
    assert main(["import", str(root), str(photos)]) == 0
    with Project.open(root) as p:
        assert p.media.count() == 405


def test_export_on_a_full_disk_leaves_no_half_dataset(small_disk, tmp_path, capsys):
    from PIL import Image

    root = tmp_path / "p"
    project = Project.create(root)
    cat = project.classes.add("cat")
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(20):
        Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3)).save(folder / f"{i}.png")
    project.media.import_files([folder])
    for m in project.media.ids():
        project.boxes.add_one(m, cat, 1, 1, 50, 50)
    project.close()
    disk = small_disk("1M")
    out = disk.folder / "export"
    assert main(["export", str(root), str(out), "--format", "coco"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "disk is full" in err[0], err
    assert not out.exists() and os.listdir(disk.folder) == []
    assert _count(root) == 20
