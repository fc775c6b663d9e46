"""One walk over a dataset folder: every image, video and possible label file, and an
index of image file names for resolving what label files point at.

Hidden entries and macOS resource folders are skipped. The walk goes ``MAX_DEPTH``
levels down, which covers every layout we know (``images/train2017/sub/x.jpg``)
without crawling a home folder dropped by mistake to its bottom.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from app.store.probe import IMAGE_EXTS, VIDEO_EXTS

MAX_DEPTH = 8
LABEL_SUFFIXES = (".json", ".xml", ".txt", ".yaml", ".yml", ".names")
_SKIP_DIRS = {"__MACOSX", "__pycache__", "node_modules", ".git"}
# Folder names that hold a dataset's pictures; left out of media names on import.
IMAGE_DIR_NAMES = {"images", "image", "imgs", "img", "jpegimages", "pictures", "photos"}
_SPLIT = re.compile(r"^(train|training|val|valid|validation|dev|test|testing)(?:[-_]?\d+)?$", re.I)
_SPLIT_NAMES = {"train": "train", "training": "train", "val": "val", "valid": "val",
                "validation": "val", "dev": "val", "test": "test", "testing": "test"}


def split_name(text: str) -> str | None:
    """"train", "val" or "test" for a folder or file-name token such as ``valid``,
    ``train2017`` or ``test-1``; None otherwise."""
    m = _SPLIT.match(text)
    return _SPLIT_NAMES[m.group(1).lower()] if m else None


def split_in_name(stem: str) -> str | None:
    """The split a file name announces: ``instances_val2017`` -> "val",
    ``custom_train`` -> "train"; ``_annotations.coco`` -> None."""
    found = {split_name(t) for t in re.split(r"[_\-.\s]+", stem) if t} - {None}
    return found.pop() if len(found) == 1 else None


def split_of(rel_parts: tuple[str, ...]) -> str | None:
    """The split named by a folder of a path (relative to the dataset folder)."""
    for part in rel_parts:
        s = split_name(part)
        if s:
            return s
    return None


@dataclass
class Inventory:
    root: Path
    images: list[Path] = field(default_factory=list)
    videos: list[Path] = field(default_factory=list)
    labels: dict[str, list[Path]] = field(default_factory=dict)   # suffix -> files
    by_name: dict[str, list[Path]] = field(default_factory=dict)  # lower-case file name -> images
    image_set: set[Path] = field(default_factory=set)
    dirs: list[Path] = field(default_factory=list)
    truncated: bool = False          # deeper folders were left unread

    def label_files(self, *suffixes: str) -> list[Path]:
        return sorted(p for s in suffixes for p in self.labels.get(s, []))

    def contains(self, path: Path) -> bool:
        try:
            path.relative_to(self.root)
            return True
        except ValueError:
            return False

    def rel(self, path: Path) -> tuple[str, ...]:
        try:
            return path.relative_to(self.root).parts
        except ValueError:
            return (path.name,)


def scan(root: str | os.PathLike) -> Inventory:
    root = Path(root).expanduser().absolute()
    inv = Inventory(root)
    base_depth = len(root.parts)
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        depth = len(here.parts) - base_depth
        keep = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS)
        if depth >= MAX_DEPTH and keep:
            inv.truncated = True
            keep = []
        dirnames[:] = keep
        inv.dirs.append(here)
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            suffix = os.path.splitext(name)[1].lower()
            path = here / name
            if suffix in IMAGE_EXTS:
                inv.images.append(path)
                inv.image_set.add(path)
                inv.by_name.setdefault(name.lower(), []).append(path)
            elif suffix in VIDEO_EXTS:
                inv.videos.append(path)
            elif suffix in LABEL_SUFFIXES:
                inv.labels.setdefault(suffix, []).append(path)
    return inv


def media_name(inv: Inventory, path: Path) -> str:
    """The name an image gets in the project (and in exports): its path inside the
    dataset without the leading split and image folders, so ``train/images/a.jpg``,
    ``images/train2017/a.jpg`` and ``JPEGImages/a.jpg`` all become ``a.jpg``."""
    parts = list(inv.rel(path))
    while len(parts) > 1 and (parts[0].lower() in IMAGE_DIR_NAMES or split_name(parts[0])):
        parts.pop(0)
    return "/".join(parts)
