"""Finding the image a label file means.

Tried in order, the first that finds a file wins:

1. the path as the label file gives it (COCO ``file_name``, VOC ``<folder>`` +
   ``<filename>``, labelme ``imagePath``), against the folders the format implies
   (beside the label file, the data set's image folders, ``--images``);
2. the same path's tail, then its bare file name, looked up in the index of every
   image under the dataset folder (case-insensitively as a last resort). Several
   candidates: the one nearest the label file wins, then the one in the label
   file's split; a tie is an ``Ambiguous`` error listing them.

A path that leads outside the dataset folder is followed only when nothing inside
matches and the user allowed it (``--allow-outside``); otherwise the label file is
refused with the field named (``OutsideError``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from app.datasets.scan import Inventory, split_of
from app.store.formats import FormatError


class Unresolved(Exception):
    """No image found for a label entry: the entry is skipped with this reason."""


class Ambiguous(Unresolved):
    def __init__(self, hint: str, candidates: list[Path]):
        self.candidates = candidates
        names = ", ".join(str(c) for c in candidates[:5])
        more = f" and {len(candidates) - 5} more" if len(candidates) > 5 else ""
        super().__init__(f"{hint!r} matches several images: {names}{more}")


class OutsideError(FormatError):
    """A label file points outside the dataset folder."""


_DRIVE = re.compile(r"^[A-Za-z]:")


def normalise(hint: str) -> str:
    """Windows separators and ``./`` prefixes out."""
    hint = hint.strip().replace("\\", "/")
    while hint.startswith("./"):
        hint = hint[2:]
    return hint


class Resolver:
    def __init__(self, inv: Inventory, allow_outside: bool = False):
        self.inv = inv
        self.allow_outside = allow_outside
        self._lower: dict[str, list[Path]] | None = None

    def find(self, hint: str, bases: list[Path], label_file: Path, field: str,
             split: str | None = None) -> Path:
        """The image ``hint`` means. Raises Unresolved / Ambiguous (skip this entry)
        or OutsideError (refuse the label file)."""
        hint = normalise(hint)
        if not hint:
            raise Unresolved("empty image path")
        outside: Path | None = None
        absolute = hint.startswith("/") or bool(_DRIVE.match(hint))
        tries = [Path(hint)] if absolute and not _DRIVE.match(hint) else []
        if not absolute:
            tries += [b / hint for b in bases]
        for t in tries:
            p = Path(os.path.normpath(t))
            if p in self.inv.image_set:
                return p
            if not self.inv.contains(p) and outside is None and p.is_file():
                outside = p
        found = self._by_name(hint, label_file, split)
        if found is not None:
            return found
        if outside is not None:
            if self.allow_outside:
                return outside
            raise OutsideError(label_file, f"points outside the dataset folder ({hint}); "
                               "refused (allow it with --allow-outside)", field)
        raise Unresolved(f"image not found: {hint}")

    def _by_name(self, hint: str, label_file: Path, split: str | None) -> Path | None:
        parts = [p for p in PurePosixPath(_DRIVE.sub("", hint)).parts if p not in ("/", "..", ".")]
        if not parts:
            return None
        cands = self.inv.by_name.get(parts[-1].lower(), [])
        exact = [c for c in cands if c.name == parts[-1]] or cands
        if not exact:
            return None
        # the longest matching tail of the hint's folders decides first
        def tail(c: Path) -> int:
            n = 0
            for a, b in zip(reversed(c.parts), reversed(parts)):
                if a.lower() != b.lower():
                    break
                n += 1
            return n
        best = _best(exact, tail)
        if len(best) > 1:
            best = _best(best, lambda c: _common(c, label_file))
        if len(best) > 1 and split:
            in_split = [c for c in best if split_of(self.inv.rel(c)) == split]
            best = in_split or best
        if len(best) > 1:
            raise Ambiguous(hint, best)
        return best[0]


def _best(items: list[Path], key) -> list[Path]:
    scores = [key(c) for c in items]
    top = max(scores)
    return [c for c, s in zip(items, scores) if s == top]


def _common(a: Path, b: Path) -> int:
    n = 0
    for x, y in zip(a.parts, b.parts):
        if x != y:
            break
        n += 1
    return n
