"""The playback controller (decode thread, latest request wins) and the timeline widget."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from app.video.player import VideoPlayer
from widgets.imaging import to_qimage
from tests.video import clips
from widgets.timeline import Timeline


def _index(image) -> int:
    """Frame index drawn in a QImage (Format_BGR888)."""
    w, h = image.width(), image.height()
    arr = np.frombuffer(image.constBits(), np.uint8, h * image.bytesPerLine())
    arr = arr.reshape(h, image.bytesPerLine())[:, : w * 3].reshape(h, w, 3)
    return clips.read_index(arr)


@pytest.fixture
def player(qtbot, h264_clip):
    p = VideoPlayer()
    shown = []
    p.frame_ready.connect(lambda i, img: shown.append((i, _index(img))))
    with qtbot.waitSignal(p.frame_shown, timeout=5000):
        p.open(h264_clip)
    p.shown = shown
    yield p
    p.close()


def _slow_down(player, seconds):
    reader = player._decoder.reader
    original = reader.frame

    def slow(index):
        time.sleep(seconds)
        return original(index)
    reader.frame = slow


def test_to_qimage_owns_a_copy():
    arr = clips.pattern(5, 64, 48)
    image = to_qimage(arr)
    arr[:] = 0
    assert _index(image) == 5 and image.width() == 64


def test_open_shows_frame_zero_and_delivers_requested_frames(player, qtbot):
    assert player.shown == [(0, 0)] and player.frame_count == 90 and player.fps == 30
    for index in (37, 3, 89, 36):
        with qtbot.waitSignal(player.frame_shown, timeout=5000) as blocker:
            player.request(index)
        assert blocker.args == [index]
        assert player.shown[-1] == (index, index)      # the image is that frame
    player.request(500)                                 # clamped
    qtbot.waitUntil(lambda: player.current == 89 and not player.busy, timeout=5000)


def test_stale_requests_are_dropped(player, qtbot):
    _slow_down(player, 0.05)
    for index in range(1, 31):
        player.request(index)
    qtbot.waitUntil(lambda: player.current == 30, timeout=5000)
    delivered = [i for i, _ in player.shown[1:]]
    assert delivered[-1] == 30 and len(delivered) <= 3, delivered
    assert all(i == shown for i, shown in player.shown)


def test_playback_runs_to_the_end_at_the_frame_rate(player, qtbot):
    with qtbot.waitSignal(player.frame_shown, timeout=5000):
        player.request(75)
    states = []
    player.playing_changed.connect(states.append)
    start = time.monotonic()
    player.set_playing(True)
    with qtbot.waitSignal(player.playing_changed, timeout=5000):
        pass
    took = time.monotonic() - start
    frames = [i for i, _ in player.shown if i >= 75]
    assert states == [True, False] and frames[-1] == 89
    assert frames == sorted(frames) and len(frames) >= 8
    assert took == pytest.approx(14 / 30, abs=0.3)
    player.set_playing(True)                          # at the end: plays again from 0
    qtbot.waitUntil(lambda: 0 <= player.current < 20, timeout=3000)
    player.set_playing(False)


def test_slow_decoding_skips_frames_without_queueing(player, qtbot):
    _slow_down(player, 0.1)                           # 10 fps decoder, 30 fps clip
    player.set_playing(True)
    qtbot.wait(700)
    player.set_playing(False)
    qtbot.waitUntil(lambda: not player.busy, timeout=3000)
    frames = [i for i, _ in player.shown[1:]]
    assert 3 <= len(frames) <= 9 and frames[-1] >= 12     # real time, not every frame
    settled = len(player.shown)
    qtbot.wait(300)
    assert len(player.shown) == settled                  # nothing was queued behind


def test_broken_file_is_refused_and_player_stays_usable(tmp_path, qtbot, h264_clip):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 5000)
    player = VideoPlayer()
    with qtbot.waitSignal(player.open_failed, timeout=5000) as failed:
        player.open(bad)                               # returns at once; the thread reports
    assert "bad.mp4" in failed.args[0] and not player.is_open
    player.request(3)                                  # harmless when closed
    with qtbot.waitSignal(player.frame_shown, timeout=5000):
        player.open(h264_clip)
    player.close()


# -- timeline ----------------------------------------------------------------------
@pytest.fixture
def timeline(qtbot):
    t = Timeline()
    qtbot.addWidget(t)
    t.resize(600, 70)
    t.set_video(90, 30.0)
    return t


def test_timeline_readout_and_jump_field(timeline, qtbot):
    timeline.set_frame(45)
    assert "frame 45 / 89" in timeline.readout.text() and "00:01.500" in timeline.readout.text()
    assert timeline.jump.maximum() == 89 and timeline.jump.value() == 45
    with qtbot.waitSignal(timeline.frame_requested) as blocker:
        timeline.jump.setValue(70)
    assert blocker.args == [70] and timeline.current == 45   # waits for set_frame
    timeline.set_video(0, 0)
    assert timeline.readout.text() == "no video" and not timeline.play_button.isEnabled()


def test_timeline_scrubber_click_and_drag(timeline, qtbot):
    timeline.show()
    qtbot.waitExposed(timeline)
    bar = timeline.bar
    got = []
    timeline.frame_requested.connect(got.append)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=QPoint(bar.width() - 1, 5))
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=QPoint(0, 5))
    qtbot.mousePress(bar, Qt.MouseButton.LeftButton, pos=QPoint(10, 5))
    qtbot.mouseMove(bar, QPoint(bar.width() // 2, 5))
    qtbot.mouseRelease(bar, Qt.MouseButton.LeftButton, pos=QPoint(bar.width() // 2, 5))
    assert got[:2] == [89, 0] and got[-1] == bar.frame_at(bar.width() // 2)
    assert abs(got[-1] - 45) <= 1


def test_timeline_buttons_and_play_state(timeline, qtbot):
    timeline.set_frame(10)
    with qtbot.waitSignal(timeline.frame_requested) as blocker:
        timeline.forward_button.click()
    assert blocker.args == [11]
    with qtbot.waitSignal(timeline.play_toggled) as blocker:
        timeline.play_button.click()
    assert blocker.args == [True] and not timeline.play_button.isChecked()
    timeline.set_playing(True)
    assert timeline.play_button.isChecked() and not timeline.play_button.icon().isNull()
    with qtbot.waitSignal(timeline.play_toggled) as blocker:
        timeline.toggle_play()
    assert blocker.args == [False]
    timeline.set_frame(0)
    with qtbot.assertNotEmitted(timeline.frame_requested):
        timeline.step(-1)                               # already at the first frame


def test_timeline_shortcuts(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    editor = QLineEdit(window)
    timeline = Timeline(window)
    QVBoxLayout(window).addWidget(editor)
    window.layout().addWidget(timeline)
    timeline.set_video(90, 30.0)
    timeline.set_frame(50)
    shortcuts = timeline.install_shortcuts(window)
    assert len(shortcuts) == 5
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitActive(window)
    timeline.bar.setFocus()
    qtbot.waitUntil(timeline.bar.hasFocus)
    got = []
    timeline.frame_requested.connect(got.append)
    timeline.play_toggled.connect(lambda on: got.append(("play", on)))
    for key, mod in [(Qt.Key.Key_Right, Qt.KeyboardModifier.NoModifier),
                     (Qt.Key.Key_Left, Qt.KeyboardModifier.NoModifier),
                     (Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier),
                     (Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier),
                     (Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier)]:
        qtbot.keyClick(timeline.bar, key, mod)
    assert got == [51, 49, 60, 40, ("play", True)]


def test_timeline_markers_render(timeline, qtbot, tmp_path):
    timeline.set_markers(set(range(10, 41)) | {60, 61}, [10, 25, 40, 60])
    timeline.set_frame(25)
    timeline.show()
    qtbot.waitExposed(timeline)
    image = timeline.grab().toImage()
    bar = timeline.bar
    y = bar.y() + bar.height() // 2
    colour = lambda frame: image.pixelColor(bar.x() + int(bar.x_of(frame)) + 1, y).name()
    assert colour(30) == "#4e79a7" and colour(80) == "#3a3a3a"
    timeline.grab().save(str(tmp_path / "timeline.png"))


def test_player_binds_to_a_timeline(player, timeline, qtbot):
    player.bind(timeline)
    assert timeline.count == 90
    with qtbot.waitSignal(player.frame_shown, timeout=5000):
        timeline.step(5)
    assert timeline.current == 5 and player.current == 5
    timeline.toggle_play()
    assert timeline.playing and player.playing
    timeline.toggle_play()
    assert not timeline.playing and not player.playing


def test_open_returns_before_the_file_is_read(qtbot, h264_clip, monkeypatch):
    """Opening reads a whole file to index it: that happens on the decode thread,
    so the GUI thread is back at once (here the reader waits for a go)."""
    import app.video.player as player_module

    go = __import__("threading").Event()
    real = player_module.VideoReader

    def slow_reader(*args, **kwargs):
        go.wait(10)
        return real(*args, **kwargs)
    monkeypatch.setattr(player_module, "VideoReader", slow_reader)
    player = VideoPlayer()
    player.open(h264_clip, frame_count=90, fps=30.0)   # returns while the reader waits
    assert player.is_open and not player.ready and player.frame_count == 90
    player.request(10)
    with qtbot.waitSignal(player.frame_shown, timeout=5000) as shown:
        go.set()
    assert shown.args == [10] and player.ready         # the newest wish, once open
    player.close()
    assert not player.is_open
