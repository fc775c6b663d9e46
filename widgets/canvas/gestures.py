"""Mouse gestures of the canvas as small state objects (no Qt widgets, no signals).

Each gesture starts at a press, follows the moves and, at the release, returns what the
canvas should emit. Geometry stays in image pixels and is clamped to the image.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from widgets.shapes import (BoxShape, clamp_point, clamp_rect, clamp_translation, is_tiny,
                            normalized, resize_rect, translate_rect)


@dataclass
class DrawGesture:
    width: float
    height: float
    start: tuple[float, float]
    end: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        self.start = clamp_point(*self.start, self.width, self.height)
        self.end = self.start

    def move(self, x: float, y: float) -> None:
        self.end = clamp_point(x, y, self.width, self.height)

    def rect(self) -> tuple[float, float, float, float]:
        return clamp_rect((*self.start, *self.end), self.width, self.height)

    def result(self) -> tuple[float, float, float, float] | None:
        r = self.rect()
        return None if is_tiny(r) else r


@dataclass
class RubberBandGesture(DrawGesture):
    """Drag on empty space: selects the boxes lying wholly inside the band."""

    additive: bool = False
    base: tuple[int, ...] = ()  # selection at the press, kept when additive


@dataclass
class MoveGesture:
    width: float
    height: float
    start: tuple[float, float]
    boxes: list[BoxShape]
    delta: tuple[float, float] = (0.0, 0.0)
    moved: bool = False
    click_only: bool = field(default=True)

    def move(self, x: float, y: float) -> None:
        dx, dy = x - self.start[0], y - self.start[1]
        self.delta = clamp_translation([b.rect for b in self.boxes], dx, dy, self.width, self.height)
        self.moved = self.moved or self.delta != (0.0, 0.0)

    def preview(self) -> dict[int, BoxShape]:
        if not self.moved:
            return {}
        return {b.id: b.with_rect(translate_rect(normalized(b.rect), *self.delta)) for b in self.boxes}

    def result(self) -> list[BoxShape]:
        return list(self.preview().values()) if self.delta != (0.0, 0.0) else []


@dataclass
class ResizeGesture:
    width: float
    height: float
    box: BoxShape
    handle: str
    current: BoxShape | None = None

    def move(self, x: float, y: float) -> None:
        x, y = clamp_point(x, y, self.width, self.height)
        self.current = self.box.with_rect(resize_rect(self.box.rect, self.handle, x, y))

    def preview(self) -> dict[int, BoxShape]:
        return {} if self.current is None else {self.box.id: self.current}

    def result(self) -> list[BoxShape]:
        c = self.current
        if c is None or is_tiny(c.rect) or normalized(c.rect) == normalized(self.box.rect):
            return []
        return [c]


@dataclass
class PanGesture:
    start: tuple[float, float]  # viewport position at the press
    scroll: tuple[int, int]  # scroll bar values at the press

    def scroll_for(self, x: float, y: float) -> tuple[int, int]:
        """Scroll bar values that keep the grabbed point under the cursor (no drift)."""
        return (self.scroll[0] - round(x - self.start[0]), self.scroll[1] - round(y - self.start[1]))


def nudge(boxes: list[BoxShape], dx: float, dy: float, width: float, height: float) -> list[BoxShape]:
    """Boxes moved by (dx, dy), as a group, stopped at the image edge; [] when nothing moves."""
    dx, dy = clamp_translation([b.rect for b in boxes], dx, dy, width, height)
    if (dx, dy) == (0.0, 0.0):
        return []
    return [b.with_rect(translate_rect(normalized(b.rect), dx, dy)) for b in boxes]


def edit_tuples(boxes: list[BoxShape]) -> list[tuple[int, float, float, float, float]]:
    return [(b.id, *normalized(b.rect)) for b in boxes]
