"""The kestrel command line end to end on generated data."""

import json

import pytest
from pycocotools.coco import COCO

from app.shell.cli import main
from app.store.project import Project


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "demo"
    assert main(["demo", str(folder), "--no-window"]) == 0
    return folder


def test_info_json_reports_counts(capsys, demo):
    code, out, _ = run(capsys, "info", demo, "--json")
    info = json.loads(out)
    assert code == 0
    assert info["images"] == 60 and info["videos"] == 1 and info["frames"] == 72
    assert set(info["boxes_per_class"]) == {"circle", "square", "triangle"}
    assert info["boxes"] == sum(info["boxes_per_class"].values())
    assert {"stripes", "noise", "gradient"} <= set(info["tags"])


@pytest.mark.parametrize("fmt", ["coco", "voc", "yolo"])
def test_export_import_export_is_identical(capsys, tmp_path, demo, fmt):
    first, second = tmp_path / "a", tmp_path / "b"
    assert run(capsys, "export", demo, first, "--format", fmt)[0] == 0
    assert run(capsys, "new", tmp_path / "p")[0] == 0
    assert run(capsys, "import", tmp_path / "p", first)[0] == 0
    assert run(capsys, "export", tmp_path / "p", second, "--format", fmt)[0] == 0
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    labels = [f for f in files if f.suffix in (".json", ".xml", ".txt", ".yaml")]
    assert labels and all((first / f).read_bytes() == (second / f).read_bytes() for f in labels)


def test_coco_export_loads_in_pycocotools_with_project_counts(capsys, tmp_path, demo):
    _code, out, _err = run(capsys, "export", demo, tmp_path / "c", "--format", "coco")
    assert "(6 not labelled left out (--include-unlabelled writes them))" in out
    coco = COCO(str(tmp_path / "c" / "annotations.json"))
    from app.store.sampling import dataset_frames

    with Project.open(demo) as project:
        frames = dataset_frames(project)       # by default: the video frames that have boxes
        # the demo leaves its last 6 images not labelled: an export leaves them out
        images = len(project.status.labelled_images()) + sum(len(f) for f in frames.values())
        assert images == project.info()["images"] - 6 + sum(len(f) for f in frames.values())
        boxes = project.conn.execute(
            "SELECT COUNT(*) FROM boxes b JOIN media m ON m.id = b.media_id WHERE m.kind = 'image'"
        ).fetchone()[0] + sum(len(project.boxes.of(m, f)) for m, fs in frames.items() for f in fs)
    assert frames and len(coco.getImgIds()) == images and len(coco.getAnnIds()) == boxes
    assert (tmp_path / "c" / "images" / coco.loadImgs(1)[0]["file_name"]).is_file()


def test_malformed_import_names_the_problem_and_keeps_nothing(capsys, tmp_path, demo):
    run(capsys, "export", demo, tmp_path / "c", "--format", "coco")
    data = json.loads((tmp_path / "c" / "annotations.json").read_text())
    data["annotations"][5]["bbox"] = [1, 2, "wide"]
    bad = tmp_path / "c" / "bad.json"
    bad.write_text(json.dumps(data))
    run(capsys, "new", tmp_path / "p")
    before = Project.open(tmp_path / "p").info()
    code, _, err = run(capsys, "import", tmp_path / "p", bad)
    assert code == 2
    assert err.count("\n") == 1 and "bad.json" in err and "annotations[5].bbox" in err
    assert Project.open(tmp_path / "p").info() == before


def test_missing_or_corrupt_images_are_skipped_and_listed(capsys, tmp_path, demo):
    run(capsys, "export", demo, tmp_path / "c", "--format", "coco")
    (tmp_path / "c" / "images" / "shapes_007.jpg").unlink()
    broken = tmp_path / "c" / "images" / "shapes_008.jpg"
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) - 200])           # its end is missing
    run(capsys, "new", tmp_path / "p")
    code, out, _ = run(capsys, "import", tmp_path / "p", tmp_path / "c" / "annotations.json")
    assert code == 0
    assert "skipped" in out and "image not found: shapes_007.jpg" in out
    assert "shapes_008.jpg: truncated JPEG" in out
    with Project.open(tmp_path / "p") as project:
        names = {m.name for m in project.media.list()}
    assert "shapes_006.jpg" in names and not {"shapes_007.jpg", "shapes_008.jpg"} & names


def test_media_import_lists_skipped_files(capsys, tmp_path):
    from PIL import Image

    (tmp_path / "m").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "m" / "ok.png")
    (tmp_path / "m" / "broken.jpg").write_bytes(b"\xff\xd8 nope")
    run(capsys, "new", tmp_path / "p")
    code, out, _ = run(capsys, "import", tmp_path / "p", tmp_path / "m")
    assert code == 0 and "imported 1 media" in out and "skipped" in out and "broken.jpg" in out


@pytest.mark.parametrize("argv, message", [
    (["info", "{tmp}/nothing"], "not a Kestrel project"),
    (["import", "{tmp}/p", "{tmp}/nope.json"], "no such file"),
    (["export", "{tmp}/p", "{tmp}/out", "--format", "coco"], None),
])
def test_user_errors_exit_2_with_one_line(capsys, tmp_path, argv, message):
    run(capsys, "new", tmp_path / "p")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("precious")
    code, _, err = run(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2 and err.startswith("kestrel: error:") and err.count("\n") == 1
    assert message is None or message in err
    assert (tmp_path / "out" / "keep.txt").read_text() == "precious"   # never clobbered


def test_console_script_runs(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "app", "new", str(tmp_path / "x")],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and (tmp_path / "x" / "kestrel.db").is_file()
