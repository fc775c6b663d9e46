"""`kestrel export --overwrite` replaces only a previous Kestrel export, atomically."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from app.shell.cli import main
from app.store.exporter import EXPORT_MARKER, ExportError, export_project
from app.store.project import Project


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "proj")
    Image.new("RGB", (20, 10), "red").save(tmp_path / "proj" / "a.png")
    p.media.import_files([tmp_path / "proj" / "a.png"])
    yield p
    p.close()


def _files(folder: Path) -> set[str]:
    return {q.relative_to(folder).as_posix() for q in folder.rglob("*")}


def test_every_export_carries_a_marker_and_a_previous_export_is_replaced(project, tmp_path):
    out = tmp_path / "out"
    export_project(project, out, "coco")
    assert (out / EXPORT_MARKER).is_file()
    (out / "stale.txt").write_text("from the old export")
    export_project(project, out, "yolo", overwrite=True)
    assert (out / EXPORT_MARKER).is_file() and (out / "data.yaml").is_file()
    assert not (out / "stale.txt").exists() and not (out / "annotations.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]   # no leftovers


@pytest.mark.parametrize("target", ["project", "parent", "home", "plain"])
def test_overwrite_refuses_anything_but_a_previous_export(project, tmp_path, monkeypatch, target):
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("precious")
    monkeypatch.setenv("HOME", str(home))
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "thesis.tex").write_text("precious")
    folder = {"project": project.root, "parent": tmp_path, "home": home, "plain": plain}[target]
    # even a marker planted in the project folder or an ancestor does not make it replaceable
    if target in ("project", "parent", "home"):
        (folder / EXPORT_MARKER).write_text("{}")
    before = _files(folder)
    with pytest.raises(ExportError, match="refus|not a Kestrel export"):
        export_project(project, folder, "coco", overwrite=True)
    assert _files(folder) == before
    assert (project.root / "kestrel.db").is_file() and (home / "notes.txt").read_text() == "precious"


def test_cli_overwrite_of_the_project_folder_is_a_user_error(project, tmp_path, capsys):
    code = main(["export", str(project.root), str(project.root), "--format", "voc", "--overwrite"])
    err = capsys.readouterr().err
    assert code == 2 and "kestrel: error:" in err and (project.root / "kestrel.db").is_file()


def test_a_failed_export_leaves_the_previous_one_whole(project, tmp_path, monkeypatch):
    out = tmp_path / "out"
    export_project(project, out, "coco")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    import app.store.exporter as exporter

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(exporter, "write_images", broken)
    with pytest.raises(OSError, match="disk full"):
        export_project(project, out, "coco", overwrite=True)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]   # staging removed
