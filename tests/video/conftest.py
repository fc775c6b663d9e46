"""Small generated clips shared by the video tests (made once per session)."""

from __future__ import annotations

import pytest

from tests.video import clips


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def mp4v_clip(clip_dir):
    return clips.write_cv2(clip_dir / "mp4v.mp4", "mp4v", 90)


@pytest.fixture(scope="session")
def mjpg_clip(clip_dir):
    return clips.write_cv2(clip_dir / "mjpg.avi", "MJPG", 60)


@pytest.fixture(scope="session")
def h264_clip(clip_dir):
    if clips.ffmpeg_exe() is None:
        pytest.skip("imageio-ffmpeg (H.264 encoder) is not installed")
    return clips.write_h264(clip_dir / "h264.mp4", 90, gop=12)


@pytest.fixture
def video_project(tmp_path, mp4v_clip):
    """A project holding the 90-frame mp4v clip (media id 1) and a class "car" (id 1)."""
    import shutil

    from app.store.project import Project

    project = Project.create(tmp_path / "proj")
    own = tmp_path / "mp4v.mp4"          # a copy: some tests damage the file
    shutil.copy(mp4v_clip, own)
    report = project.media.import_files([own])
    assert report.added == [1], report.skipped
    project.classes.add("car")
    yield project
    project.close()
