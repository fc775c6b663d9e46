"""Finding every annotation source in a scanned dataset folder.

A *source* is one thing that describes images: a COCO JSON file, the VOC XML files of
one folder, the labelme JSON files of one folder, the YOLO label files of one
``labels`` folder (or of one folder of images with ``.txt`` files beside them), or a
class-per-folder image set. Nothing is imported here; ``read`` turns sources into
planned images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.datasets.scan import IMAGE_DIR_NAMES, Inventory, split_in_name, split_name
from app.store.formats import FormatError
from app.store.formats.coco import is_coco, load_json
from app.store.formats.labelme import is_labelme
from app.store.formats.voc import is_voc_xml
from app.store.formats.yolo import is_names_file

KINDS = ("coco", "voc", "yolo", "labelme", "folders")
_ANNOTATION_WORDS = ("annot", "instances", "coco", "result", "label", "train", "val", "test")
ANNOTATION_DIRS = {"annotations", "annotation", "annots", "xmls", "xml", "labels", "label"}


@dataclass
class Source:
    kind: str                      # one of KINDS
    files: list[Path]              # its label files (none for folders)
    anchor: Path                   # the folder it describes (shown to the user)
    data: list = field(default_factory=list)   # parsed JSON, one per file (coco, labelme)
    error: FormatError | None = None           # it does not parse
    split: str | None = None       # the split its file or folder name announces
    images_dir: Path | None = None  # yolo: the folder its label folder mirrors

    def describe(self, root: Path) -> str:
        def rel(p: Path) -> str:
            try:
                return p.relative_to(root).as_posix() or "."
            except ValueError:
                return str(p)
        if self.kind == "coco":
            return f"COCO {rel(self.files[0])}"
        if self.kind == "folders":
            return f"class-per-folder images in {rel(self.anchor)}"
        label = {"voc": "Pascal VOC", "yolo": "YOLO", "labelme": "labelme"}[self.kind]
        n = len(self.files)
        return f"{label} {rel(self.anchor)}/ ({n} file{'s' if n != 1 else ''})"


def find_sources(inv: Inventory, skipped: list[tuple[str, str]]) -> list[Source]:
    """Every source under ``inv.root``; files that look like labels but are not
    readable as any format go to ``skipped`` with the reason."""
    sources = _json_sources(inv, skipped) + _voc_sources(inv, skipped) + _yolo_sources(inv)
    if not sources:
        folders = folder_classes(inv)
        if folders:
            sources.append(Source("folders", [], inv.root))
    return sources


def _looks_like_labels(path: Path) -> bool:
    name = path.name.lower()
    return any(w in name for w in _ANNOTATION_WORDS) or path.parent.name.lower() in ANNOTATION_DIRS


def _json_sources(inv: Inventory, skipped) -> list[Source]:
    out, labelme = [], {}
    for path in inv.label_files(".json"):
        try:
            data = load_json(path)
        except FormatError as e:
            if _looks_like_labels(path):
                out.append(Source("coco", [path], path.parent, error=e, split=_split(path)))
            else:
                skipped.append((str(path), f"not readable JSON ({e.problem})"))
            continue
        if is_coco(data) or (isinstance(data, dict) and "images" in data and "annotations" in data):
            out.append(Source("coco", [path], path.parent, [data], split=_split(path)))
        elif is_labelme(data):
            labelme.setdefault(path.parent, []).append((path, data))
    for folder, items in _nest_pairs(labelme).items():
        out.append(Source("labelme", [p for p, _ in items], folder, [d for _, d in items],
                          split=split_name(folder.name)))
    return out


def _nest_pairs(by_dir: dict[Path, list]) -> dict[Path, list]:
    keyed = {d: [p for p, _ in items] for d, items in by_dir.items()}
    data = {p: d for items in by_dir.values() for p, d in items}
    return {d: [(p, data[p]) for p in files] for d, files in _nest(keyed).items()}


def _split(path: Path) -> str | None:
    """A COCO file's split: from its name (``instances_val2017``) or its folder
    (Roboflow's ``valid/_annotations.coco.json``)."""
    return split_in_name(path.stem) or split_name(path.parent.name)


def _voc_sources(inv: Inventory, skipped) -> list[Source]:
    by_dir: dict[Path, list[Path]] = {}
    for path in inv.label_files(".xml"):
        if is_voc_xml(path):
            by_dir.setdefault(path.parent, []).append(path)
        else:
            try:
                head = path.read_bytes()[:2048]
            except OSError:
                head = b""
            if b"<annotations" in head:
                skipped.append((str(path), "CVAT for images XML is not read; export COCO 1.0 or "
                                "Pascal VOC from CVAT"))
    return [Source("voc", files, folder, split=split_name(folder.name))
            for folder, files in _nest(by_dir).items()]


def _nest(by_dir: dict[Path, list[Path]]) -> dict[Path, list[Path]]:
    """Sub-folders of an annotation folder belong to it (``Annotations/clip/*.xml``),
    unless they name a split of their own (``train/``, ``test/``)."""
    out: dict[Path, list[Path]] = {}
    for folder in sorted(by_dir, key=lambda d: len(d.parts)):
        parent = next((d for d in out if d in folder.parents), None)
        if parent is not None and not split_name(folder.name):
            out[parent] += by_dir[folder]
        else:
            out[folder] = list(by_dir[folder])
    return out


def labels_dir_of(inv: Inventory, txt: Path) -> Path | None:
    """The outermost-but-last ``labels`` folder above ``txt`` (Ultralytics' rule: the
    last ``labels`` of the path mirrors ``images``)."""
    parts = inv.rel(txt)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i].lower() == "labels":
            return inv.root.joinpath(*parts[:i + 1])
    return None


def mirror_images_dir(labels_dir: Path) -> Path:
    name = "Images" if labels_dir.name == "Labels" else "images"
    return labels_dir.with_name(name)


def _yolo_sources(inv: Inventory) -> list[Source]:
    stems = {(p.parent, p.stem) for p in inv.images}
    grouped: dict[Path, list[Path]] = {}
    beside: dict[Path, list[Path]] = {}
    for txt in inv.label_files(".txt"):
        if is_names_file(txt) or txt.name.lower().startswith("readme") or "ImageSets" in txt.parts:
            continue
        labels_dir = labels_dir_of(inv, txt)
        if labels_dir is not None:
            grouped.setdefault(labels_dir, []).append(txt)
        elif (txt.parent, txt.stem) in stems:
            beside.setdefault(txt.parent, []).append(txt)
    out = [Source("yolo", files, d, split=split_name(d.parent.name), images_dir=mirror_images_dir(d))
           for d, files in grouped.items()]
    out += [Source("yolo", files, d, split=split_name(d.name), images_dir=d)
            for d, files in beside.items()]
    return out


def folder_classes(inv: Inventory) -> dict[Path, str] | None:
    """torchvision's ImageFolder layout: ``class/*.jpg`` (or ``split/class/*.jpg``), every
    class folder holding only images; {class folder: class name}, or None."""
    if any(p.parent == inv.root for p in inv.images) or inv.videos:
        return None
    subs = _subdirs(inv, inv.root)
    if not subs:
        return None
    if all(split_name(d.name) for d in subs):
        class_dirs = [c for d in subs for c in _subdirs(inv, d)]
        if any(p.parent in subs for p in inv.images):
            return None
    else:
        class_dirs = subs
    names = {d.name for d in class_dirs}
    if len(names) < 2 or names & IMAGE_DIR_NAMES or any(split_name(n) for n in names):
        return None
    for d in class_dirs:
        if _subdirs(inv, d) or not any(p.parent == d for p in inv.images):
            return None
        if any(f.parent == d for fs in inv.labels.values() for f in fs):
            return None
    return {d: d.name for d in class_dirs}


def _subdirs(inv: Inventory, folder: Path) -> list[Path]:
    return [d for d in inv.dirs if d.parent == folder]
