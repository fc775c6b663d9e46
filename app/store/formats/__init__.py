"""Label formats: COCO, Pascal VOC and YOLO readers and writers over ``LabelSet``.

Pure functions (no sqlite, Qt or torch). ``detect_format`` backs
``kestrel import --format auto``; ``read_labels`` / ``write_labels`` dispatch by name.
Every reader raises ``FormatError`` (a ``ValueError``) naming the file and the field
or line for malformed input, never another exception type.
"""

from __future__ import annotations

from pathlib import Path

from ._common import ImageSize, default_image_size
from .coco import read_coco, write_coco
from .labelset import FormatError, LabelBox, LabelImage, LabelSet
from .voc import read_voc, write_voc
from .yolo import NAMES_FILES, YAML_NAMES, read_yolo, write_yolo

FORMATS = ("coco", "voc", "yolo")

__all__ = [
    "FORMATS", "FormatError", "LabelBox", "LabelImage", "LabelSet", "detect_format",
    "read_coco", "read_labels", "read_voc", "read_yolo", "write_coco", "write_labels",
    "write_voc", "write_yolo",
]


def detect_format(path: str | Path) -> str:
    """"coco", "voc", "yolo", or "media" (plain images / videos, no labels).

    A ``.json`` file is COCO, a ``.yaml``/``.yml`` file YOLO. A folder is VOC when it
    has ``Annotations/`` or ``annots/`` or top-level ``*.xml`` files; YOLO when it has
    a data.yaml, a ``labels/`` folder (also ``<split>/labels``) or ``classes.txt`` /
    ``obj.names``; COCO when it holds exactly one top-level ``*.json``.
    """
    p = Path(path)
    if not p.exists():
        raise FormatError(p, "does not exist")
    if p.is_file():
        suffix = p.suffix.lower()
        if suffix == ".json":
            return "coco"
        if suffix in (".yaml", ".yml"):
            return "yolo"
        return "media"
    if (p / "Annotations").is_dir() or (p / "annots").is_dir():
        return "voc"
    if any((p / n).is_file() for n in YAML_NAMES) or (p / "labels").is_dir() \
            or any(d.is_dir() for d in p.glob("*/labels")):
        return "yolo"
    if any(p.glob("*.xml")):
        return "voc"
    if any((p / n).is_file() for n in NAMES_FILES):
        return "yolo"
    if len(list(p.glob("*.json"))) == 1:
        return "coco"
    return "media"


def read_labels(path: str | Path, fmt: str = "auto",
                image_size: ImageSize = default_image_size) -> LabelSet:
    """Read labels in ``fmt`` ("auto" detects). ``image_size`` is used by YOLO (always)
    and VOC (only for files without a ``<size>``)."""
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "coco":
        return read_coco(path)
    if fmt == "voc":
        return read_voc(path, image_size)
    if fmt == "yolo":
        return read_yolo(path, image_size)
    raise FormatError(path, f"no label format here ({fmt!r}); expected one of {FORMATS}")


def write_labels(labelset: LabelSet, out: str | Path, fmt: str) -> None:
    """Write ``labelset`` in ``fmt``: COCO to a ``.json`` file, VOC and YOLO into a folder."""
    writers = {"coco": write_coco, "voc": write_voc, "yolo": write_yolo}
    if fmt not in writers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    writers[fmt](labelset, out)
