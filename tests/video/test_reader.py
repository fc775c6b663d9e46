"""VideoReader: random access gives what sequential decoding gives, for several codecs."""

from __future__ import annotations

import random
import subprocess

import cv2
import numpy as np
import pytest

from app.store.video import VideoError, VideoReader
from tests.video import clips


def _sequential(path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    cap.release()
    return frames


@pytest.fixture(params=["mp4v_clip", "mjpg_clip", "h264_clip"])
def clip(request):
    return request.getfixturevalue(request.param)


def test_random_seeks_match_sequential_decoding(clip):
    truth = _sequential(clip)
    assert [clips.read_index(f) for f in truth] == list(range(len(truth)))
    with VideoReader(clip, cache_frames=4) as reader:
        assert reader.frame_count == len(truth)
        assert reader.size == (160, 120) and reader.fps == pytest.approx(30.0)
        rng = random.Random(7)
        order = rng.choices(range(len(truth)), k=60) + [len(truth) - 1, 0, 5, 4, 3, 2, 1]
        for index in order:
            img = reader.frame(index)
            assert np.array_equal(img, truth[index]), f"frame {index} of {clip.name}"
        assert reader.stats["seeks"] > 10     # the seek path was exercised, not only reads


def test_stepping_back_and_forth_comes_from_the_cache(h264_clip):
    with VideoReader(h264_clip, cache_frames=16) as reader:
        for i in range(40, 30, -1):           # backward steps decode a few frames at once
            assert clips.read_index(reader.frame(i)) == i
        assert reader.stats["seeks"] <= 4        # not one seek per step
        decoded = reader.stats["decoded"]
        for i in list(range(31, 41)) + list(range(40, 30, -1)):
            assert clips.read_index(reader.frame(i)) == i
        assert reader.stats["decoded"] == decoded    # all hits
        assert reader.stats["hits"] >= 20


def test_cache_is_bounded_and_frames_are_read_only(mp4v_clip):
    with VideoReader(mp4v_clip, cache_frames=5) as reader:
        for i in range(20):
            reader.frame(i)
        assert reader.cached() == [15, 16, 17, 18, 19]
        with pytest.raises(ValueError):
            reader.frame(19)[0, 0, 0] = 1
    frame_bytes = 160 * 120 * 3
    with VideoReader(mp4v_clip, cache_bytes=3 * frame_bytes) as reader:
        for i in range(10):
            reader.frame(i)
        assert len(reader.cached()) == 3


class _LateSeeks:
    """A container whose seeks land on the keyframe after the one asked for."""

    def __init__(self, container, key_times):
        self.container, self.key_times = container, key_times

    def seek(self, offset, **kwargs):
        later = [t for t in self.key_times if t > offset]
        return self.container.seek(later[0] if later else offset, **kwargs)

    def __getattr__(self, name):
        return getattr(self.container, name)


def test_inaccurate_seek_is_detected_and_corrected(h264_clip):
    with VideoReader(h264_clip, cache_frames=2) as reader:
        reader._container = _LateSeeks(reader._container, [reader._pts[k] for k in reader._keys])
        for index in (70, 20, 55, 9, 13):
            assert clips.read_index(reader.frame(index)) == index
        assert reader.stats["retries"] >= 4


def _seek_everywhere(path, expect_frames):
    with VideoReader(path, cache_frames=2) as reader:
        assert reader.frame_count == expect_frames
        order = random.Random(3).choices(range(expect_frames), k=40) + [expect_frames - 1, 0, 1]
        for index in order:
            assert clips.read_index(reader.frame(index)) == index, f"frame {index} of {path.name}"
        return reader


def test_variable_frame_rate_clip_seeks_exactly(h264_clip, tmp_path):
    vfr = tmp_path / "vfr.mp4"   # frame durations of 1, 2, 3, ... frame times, every 10 frames
    subprocess.run([clips.ffmpeg_exe(), "-v", "error", "-y", "-i", str(h264_clip),
                    "-vf", "setpts='(N+floor(N/10)*N/3)/30/TB'", "-fps_mode", "passthrough",
                    "-c:v", "libx264", "-preset", "veryfast", "-g", "12", "-bf", "2", str(vfr)],
                   check=True)
    reader = _seek_everywhere(vfr, 90)
    step = [reader.time_of(i + 1) - reader.time_of(i) for i in range(89)]
    assert min(step) == pytest.approx(1 / 30) and max(step) > 5 / 30   # real times, not i / fps


def test_stream_without_timestamps_is_read_by_counting(h264_clip, tmp_path):
    raw = tmp_path / "raw.h264"  # an Annex B elementary stream: packets carry no pts
    subprocess.run([clips.ffmpeg_exe(), "-v", "error", "-y", "-i", str(h264_clip), "-c", "copy",
                    "-bsf:v", "h264_mp4toannexb", str(raw)], check=True)
    assert _seek_everywhere(raw, 90)._counting


def test_out_of_range_index(mp4v_clip):
    with VideoReader(mp4v_clip) as reader:
        with pytest.raises(IndexError):
            reader.frame(90)
        with pytest.raises(IndexError):
            reader.frame(-1)


# -- broken files ------------------------------------------------------------------
def test_garbage_empty_and_missing_files_are_reported(tmp_path):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, np.uint8).tobytes())
    empty = tmp_path / "empty.avi"
    empty.write_bytes(b"")
    for path, reason in [(garbage, "cannot open"), (empty, "empty"),
                         (tmp_path / "gone.mp4", "not found")]:
        with pytest.raises(VideoError, match=reason) as info:
            VideoReader(path)
        assert path.name in str(info.value)


def test_zero_frame_video_is_reported(tmp_path):
    path = tmp_path / "zero.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (64, 48))
    writer.release()
    with pytest.raises(VideoError, match="zero.avi"):
        VideoReader(path)


def test_truncated_mp4_without_index_cannot_open(mp4v_clip, tmp_path):
    data = mp4v_clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])   # the index (moov) is at the end: lost
    with pytest.raises(VideoError, match="cut.mp4"):
        VideoReader(cut)


def test_truncated_streamable_mp4_fails_on_the_missing_frames(h264_clip, tmp_path):
    fast = tmp_path / "fast.mp4"
    subprocess.run([clips.ffmpeg_exe(), "-v", "error", "-y", "-i", str(h264_clip), "-c", "copy",
                    "-movflags", "+faststart", str(fast)], check=True)
    data = fast.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 5])
    with VideoReader(cut) as reader:                      # the index says 90 frames
        assert clips.read_index(reader.frame(3)) == 3
        with pytest.raises(VideoError, match=r"cut.mp4: cannot decode frame"):
            for index in range(reader.frame_count):
                reader.frame(index)
        assert clips.read_index(reader.frame(2)) == 2     # still usable afterwards
