"""Plain, immutable rows returned by the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

SOURCES = ("manual", "predicted", "interpolated")


@dataclass(frozen=True)
class Media:
    id: int
    path: str            # as stored: posix, relative to the project when inside it
    name: str            # file name inside exported datasets
    kind: str            # "image" | "video"
    width: int
    height: int
    fps: float | None
    frame_count: int | None
    content_hash: str
    file_size: int
    added_at: str

    @property
    def is_video(self) -> bool:
        return self.kind == "video"


@dataclass(frozen=True)
class LabelClass:
    id: int
    name: str
    color: str
    position: int
    hotkey: str | None


@dataclass(frozen=True)
class Box:
    id: int
    media_id: int
    frame: int
    class_id: int
    x1: float
    y1: float
    x2: float
    y2: float
    track_id: int | None = None
    source: str = "manual"
    score: float | None = None
    run_id: int | None = None
    author: str | None = None
    created_at: str = ""
    updated_at: str = ""

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)


@dataclass(frozen=True)
class Tag:
    id: int
    name: str
    position: int
    hotkey: str | None


@dataclass(frozen=True)
class Run:
    id: int
    name: str
    task: str
    template: str
    hyperparameters: dict = field(default_factory=dict)
    run_dir: str = ""
    status: str = "running"
    created_at: str = ""
    finished_at: str | None = None
    best_metric: float | None = None
    metrics: dict = field(default_factory=dict)
    message: str | None = None
    dataset: dict = field(default_factory=dict)


class EmbeddingKey(NamedTuple):
    kind: str          # "image" | "frame" | "box"
    media_id: int
    frame: int = 0
    box_id: int = 0    # 0 unless kind == "box"

    def label(self) -> str:
        if self.kind == "box":
            return f"box:{self.box_id}"
        return f"{self.media_id}" + (f"@{self.frame}" if self.kind == "frame" else "")
