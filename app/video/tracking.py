"""Propagate one box forward through a video with OpenCV's MIL tracker (no Qt).

``TrackForward(reader, start, box)`` iterates ``Step(frame, box, confidence)`` for
frames ``start + 1, start + 2, …`` and sets ``.stop`` (why it ended) when done.

Why MIL: it is the only tracker in opencv-python(-headless) that needs no model
file (KCF/CSRT live in contrib, DaSiamRPN/Nano/Vit need downloaded networks).

MIL gives no confidence, so we compute one: the normalised cross-correlation
(``TM_CCOEFF_NORMED``, grey) of the tracked patch against the patch the user boxed
on the start frame. 1.0 is the same picture, ~0 something unrelated. Comparing
with the *first* patch rather than the previous one is deliberate: MIL drifts
slowly onto the background, and a frame-to-frame score would never notice.

MIL alone lags a few pixels behind a moving object (3-10 px on the test clips)
and its answer depends on random Haar features and samples (seeded per job, see
``_seed``). So its box is snapped to where the start patch correlates best within a
fifth of the box size around it; the confidence is that best correlation. MIL
still does the searching (the snap never looks further), and it keeps its own
state: re-initialising it on the snapped box each frame made it far worse.

MIL keeps the box size fixed and never lets it cross the picture's edge, so an
object that leaves the picture cannot be followed out of it. Tracking stops,
without yielding that frame, on:

* ``confidence``: the score falls below ``min_confidence`` (default 0.5: a moved,
  recompressed copy of a textured object scores 0.7-0.99 here, an unrelated patch
  around 0; lower it for objects that turn or deform);
* ``left``: the box is pushed against an edge of the picture it did not start at;
* ``lost``: MIL itself reports failure;
* ``until``: the frame ``until`` is reached (the track's next keyframe or outside
  marker: the user's own boxes win over the tracker's);
* ``end``: the last frame of the video;
* ``limit``: ``max_frames`` frames were tracked;
* ``cancelled``: ``cancel()`` returned true (checked before every frame).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import sys
import threading
from typing import Callable, Iterator

import cv2
import numpy as np

MIN_CONFIDENCE = 0.5
MAX_FRAMES = 300          # 10 s at 30 fps; ~12 s of work at 640x360 here
SEED = 0                  # seeded per job: the same input gives the same track

# MIL draws on two generators: its sampler copies OpenCV's thread-local cv::theRNG()
# when the tracker is initialised, and its Haar features come from the C library's
# rand(), one generator for the whole process on glibc. Its boosting step also keeps
# static buffers. So initialisation (seed, then init) and every update run under one
# lock: a job's result depends only on the video, the start box and the options, on
# whichever thread it runs and whatever ran before it.
_MIL_LOCK = threading.Lock()


def _c_srand():
    try:
        if sys.platform == "win32":
            return ctypes.cdll.ucrtbase.srand
        return ctypes.CDLL(ctypes.util.find_library("c") or None).srand
    except (OSError, AttributeError):
        return None


_SRAND = _c_srand()


def _seed(seed: int) -> None:
    cv2.setRNGSeed(seed)
    if _SRAND is not None:
        _SRAND(ctypes.c_uint(seed))


@dataclasses.dataclass(frozen=True)
class Step:
    frame: int
    box: tuple[float, float, float, float]   # x1, y1, x2, y2, clipped to the picture
    confidence: float


@dataclasses.dataclass(frozen=True)
class Stop:
    reason: str          # confidence | left | lost | until | end | limit | cancelled
    frame: int           # the first frame not tracked
    text: str            # for the user


class TrackForward:
    def __init__(self, reader, start: int, box, *, until: int | None = None,
                 max_frames: int = MAX_FRAMES, min_confidence: float = MIN_CONFIDENCE,
                 cancel: Callable[[], bool] | None = None, seed: int = SEED):
        self.reader, self.start = reader, start
        self.seed = seed
        self.box = tuple(float(v) for v in box)
        self.until, self.max_frames = until, max_frames
        self.min_confidence = min_confidence
        self.cancel = cancel or (lambda: False)
        self.stop: Stop | None = None

    @property
    def last_frame(self) -> int:
        """The last frame tracking may reach (for progress bars)."""
        last = min(self.reader.frame_count - 1, self.start + self.max_frames)
        return last if self.until is None else min(last, self.until - 1)

    def __iter__(self) -> Iterator[Step]:
        first = self.reader.frame(self.start)
        start_grey = _grey(first)
        x1, y1, x2, y2 = _clip(tuple(round(v) for v in self.box), first.shape)
        if x2 - x1 < 2 or y2 - y1 < 2:
            self.stop = Stop("left", self.start, "the box is not inside the picture")
            return
        patch = start_grey[y1:y2, x1:x2]
        start_edges = _edges((x1, y1, x2 - x1, y2 - y1), first.shape)
        tracker = cv2.TrackerMIL.create()
        with _MIL_LOCK:
            _seed(self.seed)
            tracker.init(np.ascontiguousarray(first), (x1, y1, x2 - x1, y2 - y1))
        frame = self.start
        while True:
            frame += 1
            stop = self._limit(frame)
            if stop is not None:
                self.stop = stop
                return
            image = self.reader.frame(frame)
            with _MIL_LOCK:
                ok, (x, y, w, h) = tracker.update(np.ascontiguousarray(image))
            if not ok:
                self.stop = Stop("lost", frame, f"the tracker lost the object at frame {frame}")
                return
            if _pinned((x, y, w, h), image.shape, start_edges):
                self.stop = Stop("left", frame, f"the object reached the edge of the picture "
                                 f"at frame {frame}")
                return
            x, y, score = _snap(_grey(image), patch, x, y, _radius(w, h))
            visible = _clip((x, y, x + w, y + h), image.shape)
            if score < self.min_confidence:
                self.stop = Stop("confidence", frame, f"confidence {score:.2f} < "
                                 f"{self.min_confidence:.2f} at frame {frame}")
                return
            yield Step(frame, tuple(float(v) for v in visible), score)

    def _limit(self, frame: int) -> Stop | None:
        if self.cancel():
            return Stop("cancelled", frame, f"cancelled at frame {frame}")
        if self.until is not None and frame >= self.until:
            return Stop("until", frame, f"reached the track's next keyframe or outside "
                        f"marker at frame {frame}")
        if frame >= self.reader.frame_count:
            return Stop("end", frame, "end of the video")
        if frame - self.start > self.max_frames:
            return Stop("limit", frame, f"limit of {self.max_frames} frames")
        return None


def _radius(w: int, h: int) -> int:
    """How far the snap looks around MIL's box: a fifth of the box, 2 to 16 px."""
    return max(2, min(16, round(0.2 * min(w, h))))


def _snap(grey: np.ndarray, patch: np.ndarray, x: int, y: int, r: int):
    """(x, y, score): where, within ``r`` px of MIL's box at (x, y), the start patch
    correlates best, and that correlation. Near an edge only the rows and columns of
    the patch that stay inside the picture for every shift take part."""
    h, w = patch.shape
    H, W = grey.shape
    c0, c1 = max(0, r - x), min(w, W - x - r)
    r0, r1 = max(0, r - y), min(h, H - y - r)
    part = patch[r0:r1, c0:c1]
    if part.shape[0] < 2 or part.shape[1] < 2 or part.std() < 1:
        return x, y, 0.0   # a flat patch correlates with nothing (OpenCV: 1 or NaN)
    window = grey[y - r + r0:y + r + r1, x - r + c0:x + r + c1]
    scores = cv2.matchTemplate(window, part, cv2.TM_CCOEFF_NORMED)
    _, best, _, (dx, dy) = cv2.minMaxLoc(np.nan_to_num(scores, nan=-1.0))
    return x + dx - r, y + dy - r, float(best)


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def _clip(box, shape) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    x1, y1, x2, y2 = box
    return max(0, x1), max(0, y1), min(w, x2), min(h, y2)


def _edges(rect, shape) -> set[str]:
    """The picture edges a box (x, y, w, h) touches (MIL keeps its box 1 px inside)."""
    x, y, w, h = rect
    H, W = shape[:2]
    return {e for e, on in (("left", x <= 1), ("top", y <= 1), ("right", x + w >= W - 1),
                            ("bottom", y + h >= H - 1)) if on}


def _pinned(rect, shape, start_edges: set[str]) -> bool:
    """MIL never lets its box cross the picture's edge: pinned to an edge it did not
    start at, the object is leaving and the box would only freeze there."""
    return bool(_edges(rect, shape) - start_edges)
