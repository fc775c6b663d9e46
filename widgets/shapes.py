"""Box geometry as plain, Qt-free data (the labelme habit: shapes are data, drawing is a function).

Coordinates are image pixels, floats, with (0, 0) the top-left corner of the image and
(width, height) its bottom-right corner. A box is ``x1 <= x2`` and ``y1 <= y2`` once
normalised; helpers here never mutate — they return new frozen values.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Iterable

#: "ghost": a video track's last box, shown faintly on later frames until it is marked
#: outside (so the track can be extended); its id is minus the track id.
#: "proposal": the model's box offered as a label (pre-labels), dashed, with its score.
SOURCES = ("manual", "predicted", "interpolated", "ghost", "proposal")

#: Handles in drawing order. Each name says which edges the handle moves.
HANDLES = ("nw", "n", "ne", "e", "se", "s", "sw", "w")

#: Boxes smaller than this (in image pixels, either side) are treated as mis-clicks.
MIN_BOX_SIZE = 2.0


@dataclass(frozen=True)
class BoxShape:
    id: int
    x1: float
    y1: float
    x2: float
    y2: float
    class_id: int
    label: str
    color: str  # "#rrggbb"
    source: str = "manual"  # one of SOURCES
    score: float | None = None
    track_id: int | None = None

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    @property
    def width(self) -> float:
        return abs(self.x2 - self.x1)

    @property
    def height(self) -> float:
        return abs(self.y2 - self.y1)

    def with_rect(self, rect: tuple[float, float, float, float]) -> "BoxShape":
        x1, y1, x2, y2 = rect
        return replace(self, x1=x1, y1=y1, x2=x2, y2=y2)

    @cached_property
    def caption(self) -> str:
        """The text of the label drawn above the box: class, track id, score."""
        parts = [self.label]
        if self.track_id is not None:
            parts.append(f"#{self.track_id}")
        if self.source in ("predicted", "proposal") and self.score is not None:
            parts.append(f"{self.score:.2f}")
        if self.source == "ghost":
            parts.append("· last box")
        if self.source == "proposal":
            parts.append("· proposal")
        return " ".join(parts)


Rect = tuple[float, float, float, float]


def normalized(rect: Rect) -> Rect:
    """Return ``rect`` with ``x1 <= x2`` and ``y1 <= y2``."""
    x1, y1, x2, y2 = rect
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


def clamp_point(x: float, y: float, width: float, height: float) -> tuple[float, float]:
    return (min(max(x, 0.0), float(width)), min(max(y, 0.0), float(height)))


def clamp_rect(rect: Rect, width: float, height: float) -> Rect:
    """Normalise ``rect`` and clip it to the image ``[0, width] x [0, height]``."""
    x1, y1, x2, y2 = normalized(rect)
    x1, y1 = clamp_point(x1, y1, width, height)
    x2, y2 = clamp_point(x2, y2, width, height)
    return (x1, y1, x2, y2)


def is_tiny(rect: Rect, min_size: float = MIN_BOX_SIZE) -> bool:
    """True for boxes thinner than ``min_size`` pixels on either side (a mis-click)."""
    x1, y1, x2, y2 = normalized(rect)
    return (x2 - x1) < min_size or (y2 - y1) < min_size


def contains(rect: Rect, x: float, y: float, margin: float = 0.0) -> bool:
    x1, y1, x2, y2 = normalized(rect)
    return x1 - margin <= x <= x2 + margin and y1 - margin <= y <= y2 + margin


def handle_points(rect: Rect) -> dict[str, tuple[float, float]]:
    """The eight resize handles of ``rect``: corners and edge midpoints."""
    x1, y1, x2, y2 = normalized(rect)
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    return {
        "nw": (x1, y1), "n": (cx, y1), "ne": (x2, y1), "e": (x2, cy),
        "se": (x2, y2), "s": (cx, y2), "sw": (x1, y2), "w": (x1, cy),
    }


def hit_handle(rect: Rect, x: float, y: float, tolerance: float) -> str | None:
    """Name of the handle within ``tolerance`` (image pixels) of (x, y), nearest first."""
    best, best_d = None, None
    for name, (hx, hy) in handle_points(rect).items():
        dx, dy = abs(hx - x), abs(hy - y)
        if dx <= tolerance and dy <= tolerance:
            d = dx * dx + dy * dy
            if best_d is None or d < best_d:
                best, best_d = name, d
    return best


def resize_rect(rect: Rect, handle: str, x: float, y: float) -> Rect:
    """Move the edges named by ``handle`` to (x, y); the result is normalised."""
    x1, y1, x2, y2 = normalized(rect)
    if "w" in handle:
        x1 = x
    if "e" in handle:
        x2 = x
    if "n" in handle:
        y1 = y
    if "s" in handle:
        y2 = y
    return normalized((x1, y1, x2, y2))


def translate_rect(rect: Rect, dx: float, dy: float) -> Rect:
    x1, y1, x2, y2 = rect
    return (x1 + dx, y1 + dy, x2 + dx, y2 + dy)


def clamp_translation(rects: Iterable[Rect], dx: float, dy: float,
                      width: float, height: float) -> tuple[float, float]:
    """Limit a move of all ``rects`` by (dx, dy) so that every one stays inside the image.

    Boxes keep their size: the group stops at the image edge instead of being squashed.
    """
    rects = [normalized(r) for r in rects]
    if not rects:
        return (0.0, 0.0)
    left = min(r[0] for r in rects)
    top = min(r[1] for r in rects)
    right = max(r[2] for r in rects)
    bottom = max(r[3] for r in rects)
    dx = min(max(dx, -left), float(width) - right) if right - left <= width else 0.0
    dy = min(max(dy, -top), float(height) - bottom) if bottom - top <= height else 0.0
    return (dx, dy)


def pick_box(shapes: Iterable[BoxShape], x: float, y: float, margin: float = 0.0) -> BoxShape | None:
    """The box under (x, y): the smallest one containing the point, so nested boxes stay reachable."""
    best, best_area = None, None
    for s in shapes:
        if contains(s.rect, x, y, margin):
            area = s.width * s.height
            if best_area is None or area < best_area:
                best, best_area = s, area
    return best
