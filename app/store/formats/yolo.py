"""YOLO (Ultralytics / darknet) text labels.

One ``.txt`` per image, one line per box: ``class cx cy w h`` normalised to [0, 1]
(an optional 6th column is a score, as Ultralytics' ``save_conf`` writes). A line of
``class x1 y1 x2 y2 x3 y3 ...`` is a YOLO-seg polygon: its bounding box is kept (and
noted). An image without a label file is not labelled yet; an empty label file says
it has no objects (a true negative).

Layouts read (``LabelSet.image_root`` is returned, file names are relative to it):

* ``images/...`` + ``labels/...`` (Ultralytics, also what we write): image root is
  ``images/``; ``images/train/a.jpg`` is labelled by ``labels/train/a.txt``;
* split folders such as ``train/images`` + ``train/labels`` (Roboflow): image root
  is the data set folder and the last ``images`` folder of a path maps to ``labels``;
* images and ``.txt`` files side by side (darknet, labelImg): image root is the folder.

Class names come from ``data.yaml`` or any other ``*.yaml`` with ``names:`` (a list or
an ``{id: name}`` mapping; PyYAML is optional, see ``_yaml``), else ``classes.txt`` /
``obj.names`` (beside the data set or inside ``labels/``), else class ``k`` is named
``"k"``. A label file without an image is listed in ``LabelSet.skipped``, not fatal. The writer writes ``labels/<file stem>.txt`` for every
labelled image (empty when it has no objects; none for an image not labelled yet), ``classes.txt`` and ``data.yaml`` (``train`` and ``val``
both ``images``, no ``path`` so it resolves beside the yaml); images are expected at
``images/<file_name>``, copying them is the caller's job.

Reading needs each image's displayed size: ``image_size(path) -> (w, h)``; the default
reads the header with Pillow and swaps for EXIF rotations.

Values are written with ``%.6f``. Coordinates within 1e-5 (normalised) outside the
image are kept as they are, since they come from that rounding, so export -> import
-> export is byte-identical; boxes further out are clamped, boxes that miss the
image or have negative size are errors.

Not carried by YOLO: image-level tags and track ids (dropped on export).
"""

from __future__ import annotations

import json
from pathlib import Path

from ._common import (IMAGE_SUFFIXES, ImageSize, atomic_write, check_labelset, clamp_box,
                      default_image_size, parse_int, parse_number, probe_size)
from ._segment import points_box
from ._yaml import load_yaml
from .labelset import FormatError, LabelBox, LabelImage, LabelSet

YAML_NAMES = ("data.yaml", "data.yml", "dataset.yaml")
NAMES_FILES = ("classes.txt", "obj.names")
_TOL = 1e-5


def read_yolo(path: str | Path, image_size: ImageSize = default_image_size) -> LabelSet:
    """Read a YOLO data set folder (or its ``data.yaml``)."""
    root = Path(path)
    yaml_path = root if root.is_file() else None
    if yaml_path:
        root = root.parent
    if not root.is_dir():
        raise FormatError(root, "not a folder")
    categories = class_names(root, yaml_path)
    img_root = root / "images" if (root / "images").is_dir() else root
    ls = LabelSet(categories=list(categories or []), image_root=str(img_root.resolve()))
    used: set[Path] = set()
    pairs = []
    for img in sorted(p for p in img_root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        if not img.is_file():
            continue
        label = _label_path(root, img)
        if label in used:
            raise FormatError(img, f"{label.name} would label two images with the same stem")
        used.add(label)
        pairs.append((img, label))
    ls.skipped += orphans(root, used)
    for img, label in pairs:
        w, h = probe_size(image_size, img)
        im = LabelImage(img.relative_to(img_root).as_posix(), w, h)
        if label.is_file():
            rows = parse_label_file(label, None if categories is None else len(ls.categories), ls)
            im.boxes = to_pixels(rows, ls.categories, w, h, label)
        else:
            im.status = "unlabelled"
        ls.images.append(im)
    return ls


def write_yolo(labelset: LabelSet, out_folder: str | Path, splits: list[str] | None = None) -> None:
    """Write ``labels/``, ``classes.txt`` and ``data.yaml`` under ``out_folder``.
    ``splits``: file names start with a split folder (``train/a.jpg``), and the yaml's
    ``train`` / ``val`` / ``test`` keys name ``images/<split>``."""
    out = Path(out_folder)
    check_labelset(labelset, out)
    cls = {c: i for i, c in enumerate(labelset.categories)}
    # The label path follows the reader's (Ultralytics') rule, so a file name with an
    # ``images/`` folder of its own still round-trips.
    targets: dict[Path, str] = {}
    for i, im in enumerate(labelset.images):
        label = _label_path(out, out / "images" / im.file_name)
        if label in targets:
            raise FormatError(out, f"{im.file_name!r} and {targets[label]!r} would share "
                              f"{label.relative_to(out).as_posix()}", f"images[{i}].file_name")
        targets[label] = im.file_name
    for im in labelset.images:
        if im.status == "unlabelled":   # no label file: not labelled yet (empty file: no objects)
            continue
        lines = []
        for b in im.boxes:
            cx, cy = (b.x1 + b.x2) / 2 / im.width, (b.y1 + b.y2) / 2 / im.height
            bw, bh = (b.x2 - b.x1) / im.width, (b.y2 - b.y1) / im.height
            line = f"{cls[b.category]} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}"
            lines.append(line + (f" {b.score:.6f}\n" if b.score is not None else "\n"))
        atomic_write(_label_path(out, out / "images" / im.file_name), "".join(lines))
    atomic_write(out / "classes.txt", "".join(c + "\n" for c in labelset.categories))
    names = "".join(f"  {i}: {json.dumps(c, ensure_ascii=False)}\n" for c, i in cls.items())
    keys = "".join(f"{s}: images/{s}\n" for s in splits) if splits else "train: images\nval: images\n"
    atomic_write(out / "data.yaml", "# Written by Kestrel; paths are relative to this file.\n"
                 f"{keys}nc: {len(cls)}\n" + ("names:\n" + names if names else "names: {}\n"))


def _label_path(root: Path, img: Path) -> Path:
    """The last ``images`` folder of the path becomes ``labels`` (Ultralytics' rule);
    without one, the label sits beside the image."""
    parts = list(img.relative_to(root).parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return root.joinpath(*parts).with_suffix(".txt")


def orphans(root: Path, used: set[Path]) -> list[tuple[str, str]]:
    """Label files in ``labels/`` folders that no image uses (names files aside):
    reported, so they are not silently lost, but never fatal."""
    out = []
    for labels_dir in [root / "labels", *root.glob("*/labels")]:
        if labels_dir.is_dir():
            for txt in sorted(labels_dir.rglob("*.txt")):
                if txt not in used and not is_names_file(txt):
                    out.append((str(txt), "label file without an image"))
    return out


def is_names_file(path: Path) -> bool:
    return path.name.lower() in NAMES_FILES or path.suffix.lower() == ".names"


def class_names(root: Path, yaml_path: Path | None = None) -> list[str] | None:
    """Names from ``yaml_path``, data.yaml or another ``*.yaml`` with ``names``, else
    classes.txt / obj.names beside the data set or in ``labels/``; None when none."""
    return find_class_names(root, yaml_path)[0]


def find_class_names(root: Path, yaml_path: Path | None = None, txt: bool = True
                     ) -> tuple[list[str] | None, Path | None]:
    """(names, the file they came from), or (None, None). ``txt``: also look at
    classes.txt / obj.names / ``*.names`` (after every yaml)."""
    if yaml_path:
        return yaml_names(yaml_path), yaml_path
    yamls = [root / n for n in YAML_NAMES] + sorted(root.glob("*.y*ml"))
    for y in dict.fromkeys(yamls):
        if y.is_file() and y.suffix.lower() in (".yaml", ".yml"):
            names = yaml_names(y, required=y.name in YAML_NAMES)
            if names is not None:
                return names, y
    if not txt:
        return None, None
    for folder in (root, root / "labels"):
        for n in NAMES_FILES:
            if (folder / n).is_file():
                return names_file(folder / n), folder / n
        found = sorted(folder.glob("*.names"))
        if found and found[0].is_file():
            return names_file(found[0]), found[0]
    return None, None


def names_file(f: Path) -> list[str]:
    """One class name per line (classes.txt, obj.names)."""
    names = [ln.strip() for ln in _read_text(f).splitlines() if ln.strip()]
    if len(set(names)) != len(names):
        raise FormatError(f, "duplicate class names")
    return names


def yaml_names(path: Path, required: bool = True) -> list[str] | None:
    """The ``names`` of a YOLO yaml; None for a yaml without them when not ``required``
    (a training config lying beside the data)."""
    try:
        data = load_yaml(_read_text(path), path)
    except FormatError:
        if required:
            raise
        return None
    if "names" not in data and not required:
        return None
    names = data.get("names")
    if isinstance(names, dict):
        if not all(_is_int(k) for k in names) or sorted(names) != list(range(len(names))):
            raise FormatError(path, "class ids must be 0..N-1", "names")
        names = [names[i] for i in range(len(names))]
    if not isinstance(names, list):
        raise FormatError(path, "expected a list or an {id: name} mapping", "names")
    if any(n is None or isinstance(n, (list, dict)) for n in names):
        raise FormatError(path, "class names must be scalars", "names")
    names = [str(n).strip() for n in names]
    if len(set(names)) != len(names) or "" in names:
        raise FormatError(path, "class names must be unique and non-empty", "names")
    nc = data.get("nc")
    if nc is not None and nc != len(names):
        raise FormatError(path, f"nc is {nc!r} but {len(names)} names are given", "nc")
    return names


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise FormatError(path, f"cannot read: {e}") from None


# One label line, normalised: (class id, cx, cy, w, h, score or None, line number).
Row = tuple[int, float, float, float, float, "float | None", int]


def parse_label_file(path: Path, n_names: int | None, ls: LabelSet | None = None) -> list[Row]:
    """The rows of one label file. ``n_names``: how many classes the names list has
    (None: no list, ids name themselves). Polygon lines become their extent, counted
    in ``ls.notes``."""
    rows = []
    for n, line in enumerate(_read_text(path).splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        where = f"line {n}"
        k = parse_int(fields[0], path, where + " class")
        if k < 0 or (n_names is not None and k >= n_names):
            top = f" (0..{n_names - 1})" if n_names else ""
            raise FormatError(path, f"class id {k} out of range{top}", where)
        if k >= 10_000:  # an id this large is garbage, not a class list we should invent
            raise FormatError(path, f"class id {k} out of range", where)
        values = [parse_number(f, path, where) for f in fields[1:]]
        if len(fields) in (5, 6):
            cx, cy, bw, bh = values[:4]
            if bw < 0 or bh < 0:
                raise FormatError(path, "negative width or height", where)
            rows.append((k, cx, cy, bw, bh, values[4] if len(fields) == 6 else None, n))
        elif len(fields) >= 7 and len(fields) % 2:
            x1, y1, x2, y2 = points_box(values[0::2], values[1::2], path, where)
            rows.append((k, (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, None, n))
            if ls is not None:
                ls.note("YOLO-seg polygons imported as their bounding boxes")
        else:
            raise FormatError(path, f"expected 5 numbers (or a polygon), got {len(fields)}", where)
    return rows


def to_pixels(rows: list[Row], names: list[str], w: int, h: int, path: Path) -> list[LabelBox]:
    """Boxes in pixels of a ``w`` x ``h`` image; ``names`` grows to cover class ids
    when the data set has no names list."""
    boxes = []
    for k, cx, cy, bw, bh, score, n in rows:
        while k >= len(names):
            names.append(str(len(names)))
        x1, y1, x2, y2 = clamp_box((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w,
                                   (cy + bh / 2) * h, w, h, path, f"line {n}", tol=_TOL * max(w, h))
        boxes.append(LabelBox(names[k], x1, y1, x2, y2, score=score))
    return boxes
