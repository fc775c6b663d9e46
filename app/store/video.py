"""Frame-accurate random access to video files (OpenCV's FFmpeg backend, no Qt).

``VideoReader(path).frame(n)`` returns the same image that decoding the file from
the start gives for frame ``n`` (BGR, ``uint8``, shape ``(height, width, 3)``,
read-only: it may be shared with the cache). How:

* a small forward step is decoded sequentially (``grab`` skips colour conversion);
* anything else seeks with ``CAP_PROP_POS_FRAMES`` and then checks the decoded
  frame's timestamp against the one frame ``n`` must have. OpenCV's seek was exact
  for every codec measured (mp4v, MJPG, H.264 with B-frames; tests/video), but if a
  file's timestamps disagree the reader seeks further back and decodes forward
  until the timestamp matches; a file whose timestamps do not follow its frame rate
  at all (variable frame rate) is read by decoding forward from the start;
* stepping backwards one frame at a time decodes a few frames before the target in
  one go, so the next steps come from the cache.

Decoded frames are kept in an LRU cache bounded by count and by bytes (a 1080p
frame is 6 MB). One reader per thread: OpenCV captures are not thread-safe, so a
worker thread opens its own reader on the same file.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy as np

# Forward gaps up to this many frames are decoded sequentially rather than by seeking:
# OpenCV's seek restarts at a keyframe at least 16 frames before the target anyway.
FORWARD_STEPS = 24
BACKFILL = 6          # frames decoded ahead of a backward single step, for the next steps


class VideoError(RuntimeError):
    """A video that cannot be read, with the file and the reason in the message."""


class VideoReader:
    def __init__(self, path: str | os.PathLike, cache_frames: int = 64,
                 cache_bytes: int = 256 * 1024 * 1024):
        import cv2

        self._cv2 = cv2
        self.path = Path(path)
        if not self.path.is_file():
            raise VideoError(f"{self.path}: file not found")
        if self.path.stat().st_size == 0:
            raise VideoError(f"{self.path}: empty file")
        self._cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not self._cap.isOpened():
            raise VideoError(f"{self.path}: cannot open video (unknown codec, not a video, "
                             "or damaged container)")
        cap = self._cap
        self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 25.0
        self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_frames = max(1, cache_frames)
        self._cache_bytes = cache_bytes
        self._bytes = 0
        self._pos = 0            # index of the frame the next cap.read() returns
        self._last = -1          # last index asked for (backward-step detection)
        self._exact_seek = True  # False: the timestamps do not follow the frame rate
        self._grabbed = -1       # frame grabbed but not yet retrieved
        self.stats = {"hits": 0, "decoded": 0, "seeks": 0, "retries": 0}
        if self.frame_count <= 0:
            self.close()
            raise VideoError(f"{self.path}: video has no frames")
        self._t0 = 0.0
        self._timestamps = False  # decided on frame 1: some containers report no times
        first = self._read(0)
        if first is None:
            self.close()
            raise VideoError(f"{self.path}: no decodable frames (unknown codec or damaged file)")
        self._t0 = cap.get(cv2.CAP_PROP_POS_MSEC)
        self._timestamps = True
        self._keep(0, first)
        if first.shape[1::-1] != self.size:
            self.size = first.shape[1::-1]

    # -- public --------------------------------------------------------------------
    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based) as a read-only BGR array; VideoError if undecodable."""
        index = int(index)
        if not 0 <= index < self.frame_count:
            raise IndexError(f"{self.path.name}: frame {index} outside 0..{self.frame_count - 1}")
        if self._cap is None:
            raise VideoError(f"{self.path}: reader is closed")
        cached = self._cache.get(index)
        if cached is not None:
            self._cache.move_to_end(index)
            self.stats["hits"] += 1
            self._last = index
            return cached
        stepping_back = index == self._last - 1 and index < self._pos
        self._last = index
        if stepping_back and BACKFILL > 1 and self._cache_frames > 2 * BACKFILL:
            start = max(0, index - BACKFILL + 1)
            self._move_to(start)
            for i in range(start, index):
                img = self._read(i)
                if img is not None:
                    self._keep(i, img)
        else:
            self._move_to(index)
        img = self._read(index)
        if img is None:
            raise VideoError(f"{self.path}: cannot decode frame {index} of {self.frame_count} "
                             "(truncated or damaged file)")
        self._keep(index, img)
        return img

    def time_of(self, index: int) -> float:
        """Seconds from the start to frame ``index`` at the nominal frame rate."""
        return index / self.fps

    def cached(self) -> list[int]:
        return list(self._cache)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        self._cache.clear()
        self._bytes = 0

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # -- decoding ------------------------------------------------------------------
    def _read(self, index: int) -> np.ndarray | None:
        """Decode the frame at the current position, which must be ``index``."""
        if self._grabbed == index:  # decoded already while checking where a seek landed
            ok, img = self._cap.retrieve()
        else:
            ok, img = self._cap.read()
        self._grabbed = -1
        if not ok or img is None:
            self._pos = -1  # unknown: the next request seeks
            return None
        self._pos = index + 1
        self.stats["decoded"] += 1
        if index == 1 and self._cap.get(self._cv2.CAP_PROP_POS_MSEC) == self._t0:
            self._timestamps = False  # times all equal: nothing to verify seeks with
        elif self._timestamps and self._exact_seek and not self._time_matches(index):
            self._exact_seek = False
        img.flags.writeable = False
        return img

    def _time_matches(self, index: int) -> bool:
        expected = self._t0 + index * 1000.0 / self.fps
        return abs(self._cap.get(self._cv2.CAP_PROP_POS_MSEC) - expected) < 500.0 / self.fps

    def _move_to(self, index: int) -> None:
        """Position the capture so that the next read decodes frame ``index``."""
        if 0 <= self._pos <= index <= self._pos + FORWARD_STEPS:
            self._skip_to(index)
            return
        if not self._exact_seek:
            if not 0 <= self._pos <= index:
                self._seek(0)
            self._skip_to(index)
            return
        back = 0
        while True:
            start = max(0, index - back)
            self._seek(start)
            if start == 0 or not self._timestamps:
                self._skip_to(index)
                return
            # Decode the frame we landed on and check which one it really is.
            ok = self._cap.grab()
            landed = self._landed_index() if ok else None
            if landed is not None and landed <= index:
                self._pos = landed + 1
                if landed == index:
                    self._grabbed, self._pos = index, index
                    return
                self._skip_to(index)
                return
            self.stats["retries"] += 1
            back = max(16, back * 2)

    def _landed_index(self) -> int:
        msec = self._cap.get(self._cv2.CAP_PROP_POS_MSEC)
        return round((msec - self._t0) * self.fps / 1000.0)

    def _seek(self, index: int) -> None:
        self.stats["seeks"] += 1
        self._cap.set(self._cv2.CAP_PROP_POS_FRAMES, index)
        self._pos = index

    def _skip_to(self, index: int) -> None:
        while self._pos < index:
            if not self._cap.grab():
                raise VideoError(f"{self.path}: cannot decode frame {self._pos} of "
                                 f"{self.frame_count} (truncated or damaged file)")
            self._pos += 1

    # -- cache ---------------------------------------------------------------------
    def _keep(self, index: int, img: np.ndarray) -> None:
        if index in self._cache:
            return
        self._cache[index] = img
        self._bytes += img.nbytes
        while len(self._cache) > 1 and (len(self._cache) > self._cache_frames
                                        or self._bytes > self._cache_bytes):
            _, old = self._cache.popitem(last=False)
            self._bytes -= old.nbytes
