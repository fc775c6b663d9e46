"""Frame-accurate random access to video files (PyAV, FFmpeg's libraries; no Qt).

``VideoReader(path).frame(n)`` returns the same image that decoding the file from
the start gives for frame ``n`` (BGR, ``uint8``, shape ``(height, width, 3)``,
read-only: it may be shared with the cache). How:

* opening demuxes the file once without decoding (about 40 ms for 120 MB of 1080p
  H.264) and lists every frame's presentation timestamp (pts) and the keyframes.
  Frame n is the n-th timestamp in presentation order, so B-frames and variable
  frame rates need no guessing, and the frame count is what the file really holds;
* a random access seeks straight to the last keyframe at or before frame n and
  decodes forward to n's timestamp, converting only that frame to BGR. If the decoder
  comes out after the target (a seek that missed), it retries from an earlier
  keyframe;
* a forward request within the current keyframe interval keeps decoding where the
  decoder is: seeking would restart from a keyframe before it anyway;
* stepping backwards one frame at a time decodes a few frames before the target in
  one go, so the next steps come from the cache;
* a file whose packets carry no usable timestamps (a raw elementary stream) is read
  by counting frames from the start.

Decoded frames are kept in an LRU cache bounded by count and by bytes (a 1080p
frame is 6 MB). One reader per thread: a worker thread opens its own reader.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from collections import OrderedDict
from pathlib import Path

import numpy as np

FORWARD_STEPS = 24   # forward gaps decoded in place even across a keyframe
BACKFILL = 6         # frames decoded ahead of a backward single step, for the next steps
THREAD_TYPE = "AUTO"  # FFmpeg decodes with frame and slice threads
MAX_RETRIES = 3      # keyframes further back tried when a seek misses the target


class VideoError(RuntimeError):
    """A video that cannot be read: ``path: reason`` in the message."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.reason = reason


class VideoReader:
    def __init__(self, path: str | os.PathLike, cache_frames: int = 64,
                 cache_bytes: int = 256 * 1024 * 1024):
        self.path = Path(path)
        if not self.path.is_file():
            raise VideoError(self.path, "file not found")
        if self.path.stat().st_size == 0:
            raise VideoError(self.path, "empty file")
        import av  # here, not at the top: the window starts without it (60 ms)

        self._av = av
        self._container = None
        try:
            self._open_container()
        except (av.FFmpegError, UnicodeDecodeError) as exc:
            raise VideoError(self.path, f"cannot open video (unknown codec, not a video, "
                             f"or damaged container: {_reason(exc)})") from None
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_frames = max(1, cache_frames)
        self._cache_bytes = cache_bytes
        self._bytes = 0
        self.stats = {"hits": 0, "decoded": 0, "seeks": 0, "retries": 0}
        try:
            self._open_stream()
        except BaseException:
            self.close()
            raise

    def _open_container(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = self._av.open(str(self.path))
        if self._container.streams.video:
            self._stream = self._container.streams.video[0]
            self._stream.thread_type = THREAD_TYPE

    def _open_stream(self) -> None:
        if not self._container.streams.video:
            raise VideoError(self.path, "no video stream")
        stream = self._stream
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        self.fps = float(rate) if rate else 25.0
        self._time_base = float(stream.time_base or 0)
        self.size = (stream.codec_context.width, stream.codec_context.height)
        self._index_packets()
        if self.frame_count <= 0:
            raise VideoError(self.path, "video has no frames")
        self._frames = None      # the decoding generator, from the last seek on
        self._skip_before = None  # pts before which non-reference frames are skipped
        self._next = -1          # index of the frame it yields next; -1: unknown
        self._last = -1          # last index asked for (backward-step detection)
        try:
            first = self._decode_to(0)
        except VideoError:
            raise VideoError(self.path, "no decodable frames (unknown codec or "
                             "damaged file)") from None
        self.size = first.shape[1::-1]

    def _index_packets(self) -> None:
        """Every frame's pts in presentation order, and which frames are keyframes."""
        packets = []  # (pts, keyframe)
        try:
            for packet in self._container.demux(self._stream):
                if packet.size == 0 or packet.is_discard:
                    continue  # the demuxer's end marker; frames an edit list drops
                packets.append((packet.pts, packet.is_keyframe))
        except self._av.FFmpegError:
            pass  # a damaged or truncated file: the frames before the damage stay readable
        self.frame_count = len(packets)
        pts = [p[0] for p in packets]
        self._counting = None in pts or len(set(pts)) != len(pts)
        if self._counting:   # no timestamps to seek by: count decoded frames instead
            self._pts, self._where, self._keys = [], {}, [0]
            return
        order = sorted(range(len(packets)), key=lambda i: pts[i])
        self._pts = [pts[i] for i in order]
        self._where = {p: n for n, p in enumerate(self._pts)}
        self._keys = sorted(self._where[p] for p, key in packets if key)
        if not self._keys or self._keys[0] != 0:
            self._keys.insert(0, 0)   # frame 0 is always reachable from the start

    # -- public --------------------------------------------------------------------
    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based) as a read-only BGR array; VideoError if undecodable."""
        index = int(index)
        if not 0 <= index < self.frame_count:
            raise IndexError(f"{self.path.name}: frame {index} outside 0..{self.frame_count - 1}")
        if self._container is None:
            raise VideoError(self.path, "reader is closed")
        cached = self._cache.get(index)
        if cached is not None:
            self._cache.move_to_end(index)
            self.stats["hits"] += 1
            self._last = index
            return cached
        stepping_back = index == self._last - 1 and not 0 <= self._next <= index
        self._last = index
        start = index
        if stepping_back and BACKFILL > 1 and self._cache_frames > 2 * BACKFILL:
            start = max(0, index - BACKFILL + 1)
        return self._decode_to(index, keep_from=start)

    def time_of(self, index: int) -> float:
        """Seconds from the first frame to frame ``index``."""
        if self._pts and self._time_base:
            return (self._pts[index] - self._pts[0]) * self._time_base
        return index / self.fps

    def cached(self) -> list[int]:
        return list(self._cache)

    def close(self) -> None:
        if getattr(self, "_container", None) is not None:
            self._frames = None
            self._container.close()
            self._container = None
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
    def _decode_to(self, index: int, keep_from: int | None = None) -> np.ndarray:
        """Decode up to frame ``index``, caching frames from ``keep_from`` on."""
        keep_from = index if keep_from is None else keep_from
        key = bisect_right(self._keys, keep_from) - 1
        in_place = 0 <= self._next <= keep_from and (
            self._keys[key] <= self._next or index - self._next <= FORWARD_STEPS)
        if not in_place:
            self._seek(key)
        for attempt in range(MAX_RETRIES + 1):
            image = self._decode_forward(index, keep_from)
            if image is not None:
                return image
            if key == 0 or self._counting or attempt == MAX_RETRIES:
                self._next = -1
                raise VideoError(self.path, f"cannot decode frame {index} of "
                                 f"{self.frame_count} (truncated or damaged file)")
            self.stats["retries"] += 1
            key -= 1                          # the seek missed: start a keyframe earlier
            self._seek(key)
        raise AssertionError("unreachable")

    def _decode_forward(self, index: int, keep_from: int) -> np.ndarray | None:
        """Decode until frame ``index``; None when the decoder passes it or ends."""
        just_sought = self._next < 0
        # Frames before ``keep_from`` are decoded only as references for later ones.
        self._skip_before = self._pts[keep_from] if self._pts else None
        while True:
            frame = self._next_frame()
            if frame is None:
                return None
            if self._counting:
                position = self._next if self._next >= 0 else 0
            else:
                position = self._where.get(frame.pts)
                if position is None:
                    continue            # not a frame of the index (should not happen)
            if position > index or (just_sought and position > keep_from):
                self._next = position + 1
                return None             # landed after the target
            just_sought = False
            self._next = position + 1
            self.stats["decoded"] += 1
            if position >= keep_from:
                image = frame.to_ndarray(format="bgr24")
                image.flags.writeable = False
                self._keep(position, image)
                if position == index:
                    return image

    def _next_frame(self):
        if self._frames is None:
            self._frames = self._decode_packets()
        try:
            return next(self._frames)
        except StopIteration:
            pass
        except self._av.FFmpegError:
            pass                        # damaged data: the frames after it are unknown
        self._frames = None
        return None

    def _decode_packets(self):
        """Decoded frames from the demuxer's position on. Non-reference frames that
        come before the wanted ones are skipped: nothing else needs them."""
        context = self._stream.codec_context
        for packet in self._container.demux(self._stream):
            skip = (self._skip_before is not None and packet.pts is not None
                    and packet.pts < self._skip_before)
            context.skip_frame = "NONREF" if skip else "DEFAULT"
            yield from context.decode(packet)

    def _seek(self, key: int) -> None:
        """Position the decoder so that it next yields keyframe ``self._keys[key]``."""
        self.stats["seeks"] += 1
        if self._counting:   # streams without timestamps cannot seek: start over
            self._open_container()
            self._next = 0
        else:
            # Demuxers index keyframes by presentation time (mov's seek compares pts
            # too): asking for the keyframe's own pts lands on it, its dts a GOP early.
            self._container.seek(self._pts[self._keys[key]], stream=self._stream,
                                 backward=True)
            self._next = -1
        self._frames = None

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


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)
