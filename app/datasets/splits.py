"""A dataset's own train/val/test split, wherever it is written down:

* VOC ``ImageSets/Main/{train,val,test}.txt`` (image stems; ``trainval`` only when
  neither ``train`` nor ``val`` exists, as train);
* darknet / CVAT-YOLO lists ``train.txt``, ``valid.txt``, ``test.txt`` of image paths;
* a YOLO yaml's ``train`` / ``val`` / ``test`` keys (folders or list files, relative to
  its ``path`` or to the yaml; Roboflow's ``../train/images`` is read as Ultralytics
  reads it, without the ``../``);
* otherwise the folders of the image's path (``train/``, ``valid/``, ``val2017/``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from app.datasets.resolve import Resolver, Unresolved
from app.datasets.scan import Inventory, split_name, split_of
from app.store.formats import FormatError
from app.store.formats._yaml import load_yaml
from app.store.probe import IMAGE_EXTS


@dataclass
class SplitMap:
    by_path: dict[Path, str] = field(default_factory=dict)
    by_stem: dict[str, str] = field(default_factory=dict)     # VOC ImageSets: "sub/stem"
    dirs: list[tuple[Path, str]] = field(default_factory=list)  # yaml folders
    sources: list[str] = field(default_factory=list)          # where it came from

    def of(self, inv: Inventory, path: Path, stem_key: str | None = None) -> str | None:
        if path in self.by_path:
            return self.by_path[path]
        if stem_key is not None and stem_key in self.by_stem:
            return self.by_stem[stem_key]
        for folder, split in self.dirs:
            if folder in path.parents:
                return split
        return None


def find_splits(inv: Inventory, yaml_files: list[Path], resolver: Resolver) -> SplitMap:
    sm = SplitMap()
    _image_sets(inv, sm)
    for y in yaml_files:
        _yaml_keys(inv, y, sm, resolver)
    _lists(inv, sm, resolver)
    return sm


def path_split(inv: Inventory, path: Path) -> str | None:
    return split_of(inv.rel(path)[:-1])


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise FormatError(path, f"cannot read: {e}") from None
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _image_sets(inv: Inventory, sm: SplitMap) -> None:
    for d in inv.dirs:
        if d.name != "Main" or d.parent.name != "ImageSets":
            continue
        files = {p.stem: p for p in inv.labels.get(".txt", []) if p.parent == d}
        names = [n for n in ("train", "val", "test") if n in files]
        if not names and "trainval" in files:
            names = ["trainval"]
        for name in names:
            split = "train" if name == "trainval" else name
            for line in _read_lines(files[name]):
                sm.by_stem[line.split()[0]] = split
            sm.sources.append(str(files[name]))


def _lists(inv: Inventory, sm: SplitMap, resolver: Resolver) -> None:
    """darknet / CVAT-YOLO ``train.txt`` lists of image paths."""
    for txt in inv.labels.get(".txt", []):
        split = split_name(txt.stem)
        if not split or "ImageSets" in txt.parts or txt in sm.sources:
            continue
        lines = _read_lines(txt)
        if not lines or os.path.splitext(lines[0])[1].lower() not in IMAGE_EXTS:
            continue
        _list_file(inv, txt, split, lines, sm, resolver)


def _list_file(inv, txt: Path, split: str, lines: list[str], sm: SplitMap, resolver) -> None:
    for n, line in enumerate(lines, 1):
        try:
            path = resolver.find(line, [txt.parent, inv.root], txt, f"line {n}")
        except Unresolved:
            continue
        sm.by_path.setdefault(path, split)
    sm.sources.append(str(txt))


def _yaml_keys(inv: Inventory, y: Path, sm: SplitMap, resolver: Resolver) -> None:
    try:
        data = load_yaml(y.read_text(encoding="utf-8-sig"), y)
    except (FormatError, OSError, UnicodeDecodeError):
        return
    base = y.parent
    if isinstance(data.get("path"), str):
        p = Path(data["path"])
        p = p if p.is_absolute() else base / p
        if p.is_dir() and inv.contains(Path(os.path.normpath(p))):
            base = Path(os.path.normpath(p))
    found: dict[Path, set[str]] = {}
    used = False
    for key in ("train", "val", "test"):
        values = data.get(key)
        for value in values if isinstance(values, list) else [values]:
            if not isinstance(value, str) or not value.strip():
                continue
            for cand in (base / value, y.parent / value, y.parent / value.removeprefix("../")):
                cand = Path(os.path.normpath(cand))
                if not inv.contains(cand):
                    continue
                if cand.is_dir():
                    found.setdefault(cand, set()).add(key)
                    used = True
                    break
                if cand.is_file() and cand.suffix.lower() == ".txt":
                    _list_file(inv, cand, key, _read_lines(cand), sm, resolver)
                    used = True
                    break
    # a folder named for two splits (``train: images`` and ``val: images``) has none
    sm.dirs += [(d, ks.pop()) for d, ks in found.items() if len(ks) == 1]
    if used:
        sm.sources.append(str(y))
        # deeper folders first, so images/train wins over images
        sm.dirs.sort(key=lambda d: -len(d[0].parts))
