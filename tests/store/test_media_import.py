import numpy as np
import pytest
from PIL import Image

from app.store.project import Project


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "proj")
    yield p
    p.close()


def _jpeg(path, w=64, h=48, exif_orientation=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8))
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        im.save(path, exif=exif)
    else:
        im.save(path)
    return path


def test_folder_import_is_recursive_and_reports_bad_files(tmp_path, project):
    src = tmp_path / "photos dir"
    _jpeg(src / "a.jpg")
    _jpeg(src / "sub" / "ünïcødé b.jpg", 30, 20)
    Image.new("RGB", (10, 10)).save(src / "c.png")
    (src / "empty.jpg").write_bytes(b"")
    (src / "garbage.png").write_bytes(b"not an image at all")
    good = (src / "a.jpg").read_bytes()
    (src / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (src / "notes.txt").write_text("ignored inside folders")

    report = project.media.import_files([src])

    names = sorted(m.name for m in project.media.list())
    assert names == ["a.jpg", "c.png", "sub/ünïcødé b.jpg"]
    reasons = {p.rsplit("/", 1)[-1]: r for p, r in report.skipped}
    assert reasons["empty.jpg"] == "empty file"
    assert "not a readable image" in reasons["garbage.png"]
    assert "truncated JPEG" in reasons["truncated.jpg"]
    assert "notes.txt" not in reasons
    sizes = {m.name: (m.width, m.height) for m in project.media.list()}
    assert sizes["sub/ünïcødé b.jpg"] == (30, 20)


def test_jpeg_padded_after_its_end_marker_is_accepted(tmp_path, project):
    path = _jpeg(tmp_path / "padded.jpg")
    path.write_bytes(path.read_bytes() + b"\x00" * 3000)   # as some exporters write them
    report = project.media.import_files([path])
    assert report.skipped == [] and len(report.added) == 1


def test_explicit_unsupported_file_is_reported(tmp_path, project):
    f = tmp_path / "doc.pdf"
    f.write_bytes(b"%PDF")
    report = project.media.import_files([f])
    assert report.skipped == [(str(f), "unsupported file type .pdf")]


def test_exif_rotation_swaps_width_and_height(tmp_path, project):
    _jpeg(tmp_path / "rot.jpg", 64, 48, exif_orientation=6)
    project.media.import_files([tmp_path / "rot.jpg"])
    (m,) = project.media.list()
    assert (m.width, m.height) == (48, 64)


def test_inside_paths_are_relative_and_reimport_is_idempotent(tmp_path, project):
    inside = _jpeg(project.root / "media" / "x.jpg")
    outside = _jpeg(tmp_path / "y.jpg")
    project.media.import_files([inside, outside])
    paths = sorted(m.path for m in project.media.list())
    assert paths == sorted(["media/x.jpg", outside.as_posix()])
    again = project.media.import_files([inside, outside])
    assert again.added == [] and len(again.already) == 2


def test_video_is_probed_and_broken_video_reported(tmp_path, project):
    import cv2

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (32, 24))
    for i in range(7):
        writer.write(np.full((24, 32, 3), i * 30, np.uint8))
    writer.release()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    report = project.media.import_files([path, broken])
    (video,) = project.media.list("video")
    assert (video.width, video.height, video.frame_count) == (32, 24, 7)
    assert video.fps == pytest.approx(10.0)
    assert len(report.skipped) == 1 and report.skipped[0][0] == str(broken)
    assert project.info()["frames"] == 7


def test_moved_files_are_found_again_by_content_hash(tmp_path, project):
    a = _jpeg(tmp_path / "old" / "a.jpg")
    project.media.import_files([a])
    (moved_dir := tmp_path / "new" / "deeper").mkdir(parents=True)
    a.rename(moved_dir / "renamed.jpg")
    (m,) = project.media.missing()
    found = project.media.relocate(tmp_path / "new")
    assert found == {m.id: (moved_dir / "renamed.jpg").as_posix()}
    assert project.media.missing() == []
