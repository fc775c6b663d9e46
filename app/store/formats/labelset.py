"""The format-neutral label set that every reader produces and every writer consumes.

Readers (COCO, VOC, YOLO) parse files into a ``LabelSet`` without touching the store;
the store imports a ``LabelSet`` in one transaction and exports one for writers. Boxes
are always absolute pixel corners (x1, y1, x2, y2) in the image's displayed
orientation; conversions to a format's own convention live in that format's module.
"""

from __future__ import annotations

from dataclasses import dataclass, field


SPLITS = ("train", "val", "test")
# Labelling status an image travels with (None: labelled, its boxes are all there is).
STATUSES = ("unlabelled", "review")


class FormatError(ValueError):
    """A malformed label file: names the file and the field or line at fault."""

    def __init__(self, path: object, problem: str, where: str | None = None):
        self.path = str(path)
        self.problem = problem
        self.where = where
        at = f" ({where})" if where else ""
        super().__init__(f"{self.path}{at}: {problem}")


@dataclass
class LabelBox:
    category: str
    x1: float
    y1: float
    x2: float
    y2: float
    track_id: int | None = None
    score: float | None = None


@dataclass
class LabelImage:
    file_name: str                # relative to the label set's image root, posix separators
    width: int
    height: int
    boxes: list[LabelBox] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    split: str | None = None      # the dataset's own split: "train", "val" or "test"
    group: str | None = None      # images that must stay on one side of a split (a video's frames)
    status: str | None = None     # None: labelled (no boxes: no objects); "unlabelled"; "review"


@dataclass
class LabelSet:
    categories: list[str] = field(default_factory=list)   # order = class order
    tags: list[str] = field(default_factory=list)          # image-level concepts
    images: list[LabelImage] = field(default_factory=list)
    # Absolute folder that every ``file_name`` is relative to, when a reader can tell
    # (VOC: JPEGImages/ or images/; YOLO: images/; COCO: the folder holding the first
    # image). ``None`` means the caller must ask; writers ignore it.
    image_root: str | None = None
    # What a reader did that the user should hear of, counted: {"boxes taken from
    # segmentation polygons": 12, "crowd regions skipped": 3}.
    notes: dict[str, int] = field(default_factory=dict)
    # Placeholder categories no box uses (Roboflow's superclass, labelme's
    # ``_background_``): left out of ``categories`` and listed here.
    dropped: list[str] = field(default_factory=list)
    # Files the reader passed over, with the reason: (path, reason).
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def note(self, what: str, n: int = 1) -> None:
        self.notes[what] = self.notes.get(what, 0) + n

    def box_count(self) -> int:
        return sum(len(im.boxes) for im in self.images)
