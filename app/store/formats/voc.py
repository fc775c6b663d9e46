"""Pascal VOC: one XML file per image.

Layouts read (first match wins; the image root is returned as ``LabelSet.image_root``):

* ``Annotations/`` + ``JPEGImages/`` (the VOC devkit layout; also what we write),
* ``annots/`` + ``images/`` (e.g. the kangaroo data set),
* XML files beside the images in one folder (labelImg's default).

An XML file at ``<xml dir>/sub/a.xml`` describes ``sub/<filename>`` under the image
root, so sub-folders survive a round trip; ``<folder>`` and ``<path>`` are ignored
(tools fill them with machine-specific junk).

Coordinates: ``xmin = x1``, ``ymin = y1``, ``xmax = x2``, ``ymax = y2`` in pixels, read
as floats and written with up to 6 decimals (``233``, ``12.5``). This is what labelImg,
CVAT and torchvision use; the devkit's 1-based convention would shift such data by a
pixel, and this choice keeps round trips exact. Boxes sticking out of the image are
clamped to it; inverted boxes or boxes that miss the image are errors.

Extras (ignored by other tools): per object ``<track_id>`` and ``<score>``; per image
``<kestrel_tags><tag>night</tag></kestrel_tags>``. The writer also writes
``classes.txt`` (and ``tags.txt`` when there are tags), one name per line, which keep
the class order and unused classes; without them, classes are ordered by first
appearance. An image written without an XML file is one not labelled yet (an XML
without objects is a true negative). ``<difficult>``, ``<truncated>`` and ``<pose>`` are not kept.

XML with a DTD (``<!DOCTYPE``) is rejected, which rules out entity expansion attacks.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.sax.saxutils import escape as _esc

from ._common import (ImageSize, atomic_write, check_labelset, clamp_box, fmt_num,
                      parse_int, parse_number, probe_size)
from .labelset import FormatError, LabelBox, LabelImage, LabelSet

_LAYOUTS = (("Annotations", "JPEGImages"), ("annots", "images"))


def voc_layout(folder: Path) -> tuple[Path, Path]:
    """(xml folder, image root) for a VOC data set folder."""
    for xml_dir, img_dir in _LAYOUTS:
        if (folder / xml_dir).is_dir():
            return folder / xml_dir, folder / img_dir
    return folder, folder


def read_voc(folder: str | Path, image_size: ImageSize | None = None) -> LabelSet:
    """Read every ``*.xml`` under the annotation folder (recursively, sorted).
    ``image_size(path) -> (w, h)`` is used only for files whose ``<size>`` is missing
    or zero, which some tools write."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FormatError(folder, "not a folder")
    xml_dir, img_root = voc_layout(folder)
    categories = names_file(folder / "classes.txt")
    tags = names_file(folder / "tags.txt")
    fixed_cats, fixed_tags = bool(categories), bool(tags)
    ls = LabelSet(categories=categories, tags=tags, image_root=str(img_root.resolve()))
    seen: dict[str, Path] = {}
    for xml_path in sorted(xml_dir.rglob("*.xml")):
        im = _read_one(xml_path, xml_dir, img_root, image_size)
        if im.file_name in seen:
            raise FormatError(xml_path, f"{im.file_name!r} is already described by "
                              f"{seen[im.file_name].name}", "filename")
        seen[im.file_name] = xml_path
        for b in im.boxes:
            _add_name(ls.categories, b.category, fixed_cats, xml_path, "class")
        for t in im.tags:
            _add_name(ls.tags, t, fixed_tags, xml_path, "tag")
        ls.images.append(im)
    return ls


def write_voc(labelset: LabelSet, out_folder: str | Path) -> None:
    """Write ``Annotations/<sub>/<stem>.xml`` per image plus ``classes.txt`` (and
    ``tags.txt``). Images are expected at ``JPEGImages/<file_name>``; copying them is
    the caller's job. Other files in ``out_folder`` are left alone."""
    out = Path(out_folder)
    check_labelset(labelset, out)
    targets = _xml_names(labelset, out)
    ann_dir = out / "Annotations"
    ann_dir.mkdir(parents=True, exist_ok=True)  # even when empty: it marks the layout
    for im, rel in zip(labelset.images, targets):
        if im.status != "unlabelled":   # no XML: nobody has looked at this image yet
            atomic_write(ann_dir / rel, _to_xml(im))
    atomic_write(out / "classes.txt", "".join(c + "\n" for c in labelset.categories))
    if labelset.tags:
        atomic_write(out / "tags.txt", "".join(t + "\n" for t in labelset.tags))


def _xml_names(ls: LabelSet, out: Path) -> list[PurePosixPath]:
    """``a.jpg`` -> ``a.xml``; if ``a.png`` also exists in that folder, both keep their
    suffix (``a.jpg.xml``) so neither overwrites the other."""
    stems: dict[PurePosixPath, int] = {}
    paths = [PurePosixPath(im.file_name) for im in ls.images]
    for p in paths:
        key = p.with_suffix("")
        stems[key] = stems.get(key, 0) + 1
    names = [p.with_suffix(".xml") if stems[p.with_suffix("")] == 1
             else p.with_name(p.name + ".xml") for p in paths]
    if len(set(names)) != len(names):
        raise FormatError(out, "two images would share one XML file name")
    return names


def _to_xml(im: LabelImage) -> str:
    """Plain string building: 5x faster than ElementTree and byte-stable."""
    rel = PurePosixPath(im.file_name)
    out = ["<annotation>",
           f"\t<folder>{_esc((PurePosixPath('JPEGImages') / rel.parent).as_posix())}</folder>",
           f"\t<filename>{_esc(rel.name)}</filename>",
           f"\t<size>\n\t\t<width>{im.width}</width>\n\t\t<height>{im.height}</height>"
           "\n\t\t<depth>3</depth>\n\t</size>",
           "\t<segmented>0</segmented>"]
    for b in im.boxes:
        out += ["\t<object>", f"\t\t<name>{_esc(b.category)}</name>",
                "\t\t<pose>Unspecified</pose>", "\t\t<truncated>0</truncated>",
                "\t\t<difficult>0</difficult>"]
        if b.track_id is not None:
            out.append(f"\t\t<track_id>{int(b.track_id)}</track_id>")
        if b.score is not None:
            out.append(f"\t\t<score>{fmt_num(b.score)}</score>")
        out += ["\t\t<bndbox>",
                f"\t\t\t<xmin>{fmt_num(b.x1)}</xmin>", f"\t\t\t<ymin>{fmt_num(b.y1)}</ymin>",
                f"\t\t\t<xmax>{fmt_num(b.x2)}</xmax>", f"\t\t\t<ymax>{fmt_num(b.y2)}</ymax>",
                "\t\t</bndbox>", "\t</object>"]
    if im.tags:
        out += ["\t<kestrel_tags>", *(f"\t\t<tag>{_esc(t)}</tag>" for t in im.tags),
                "\t</kestrel_tags>"]
    out.append("</annotation>\n")
    return "\n".join(out)


class _NoDTD(ET.TreeBuilder):
    def doctype(self, name, pubid, system):  # called by expat before any entity is declared
        raise FormatError("", "DTDs and entities are not allowed")


def parse_xml(path: Path) -> ET.Element:
    """Parse with the C parser, refusing any ``<!DOCTYPE`` (hence any entity)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise FormatError(path, f"cannot read: {e}") from None
    parser = ET.XMLParser(target=_NoDTD())
    try:
        parser.feed(data)
        return parser.close()
    except FormatError as e:
        raise FormatError(path, e.problem) from None
    except ET.ParseError as e:
        raise FormatError(path, f"invalid XML: {e}") from None


def _text(el: ET.Element, tag: str, path: Path, where: str, required: bool = True) -> str | None:
    child = el.find(tag)
    if child is None or child.text is None or not child.text.strip():
        if required:
            raise FormatError(path, "missing or empty", f"{where}<{tag}>")
        return None
    return child.text.strip()


@dataclass
class VocRecord:
    """One XML file as written, before its image is found: ``width``/``height`` are 0
    when the file has no usable ``<size>``, and boxes are then not yet clamped."""
    path: Path
    filename: str
    folder: str | None
    image_path: str | None          # ``<path>``: often another machine's; a hint only
    width: int
    height: int
    boxes: list[LabelBox]
    tags: list[str]


def is_voc_xml(path: Path) -> bool:
    """Cheap check on the first bytes: a Pascal VOC ``<annotation>`` document."""
    try:
        with open(path, "rb") as f:
            head = f.read(2048)
    except OSError:
        return False
    return b"<annotation" in head and b"<annotations" not in head


def parse_voc_file(path: Path) -> VocRecord:
    root = parse_xml(path)
    if root.tag != "annotation":
        raise FormatError(path, f"root element is <{root.tag}>, expected <annotation>")
    el = root.find("filename")
    # only layout whitespace is stripped: a file name may start or end with a space
    name = (el.text or "").strip("\r\n\t") if el is not None else ""
    if not name.strip():
        raise FormatError(path, "missing or empty", "<filename>")
    w, h = 0, 0
    size = root.find("size")
    if size is not None:
        ws = _text(size, "width", path, "<size>/", False)
        hs = _text(size, "height", path, "<size>/", False)
        w = parse_int(ws, path, "<size>/<width>") if ws else 0
        h = parse_int(hs, path, "<size>/<height>") if hs else 0
        if w < 0 or h < 0:
            raise FormatError(path, f"negative image size {w}x{h}", "<size>")
    if w == 0 or h == 0:
        w = h = 0
    rec = VocRecord(path, name, _text(root, "folder", path, "", False),
                    _text(root, "path", path, "", False), w, h, [], [])
    for i, obj in enumerate(root.findall("object")):
        where = f"<object>[{i}]/"
        cat = _text(obj, "name", path, where)
        box = obj.find("bndbox")
        if box is None:
            raise FormatError(path, "missing", f"{where}<bndbox>")
        xy = [parse_number(_text(box, t, path, f"{where}<bndbox>/"), path, f"{where}<bndbox>/<{t}>")
              for t in ("xmin", "ymin", "xmax", "ymax")]
        if w:
            xy = clamp_box(*xy, w, h, path, f"{where}<bndbox>")
        elif xy[2] < xy[0] or xy[3] < xy[1]:
            raise FormatError(path, "inverted box ({:g}, {:g}, {:g}, {:g})".format(*xy),
                              f"{where}<bndbox>")
        tid = _text(obj, "track_id", path, where, False)
        score = _text(obj, "score", path, where, False)
        rec.boxes.append(LabelBox(
            cat, *xy,
            track_id=None if tid is None else parse_int(tid, path, f"{where}<track_id>"),
            score=None if score is None else parse_number(score, path, f"{where}<score>"),
        ))
    tags = root.find("kestrel_tags")
    if tags is not None:
        rec.tags = [t.text.strip() for t in tags.iter("tag") if t.text and t.text.strip()]
    return rec


def clamp_boxes(boxes: list[LabelBox], w: int, h: int, path: Path) -> list[LabelBox]:
    """Clamp boxes read before the image size was known."""
    out = []
    for i, b in enumerate(boxes):
        x1, y1, x2, y2 = clamp_box(b.x1, b.y1, b.x2, b.y2, w, h, path, f"<object>[{i}]/<bndbox>")
        out.append(LabelBox(b.category, x1, y1, x2, y2, b.track_id, b.score))
    return out


def _read_one(path: Path, xml_dir: Path, img_root: Path,
              image_size: ImageSize | None) -> LabelImage:
    rec = parse_voc_file(path)
    sub = path.parent.relative_to(xml_dir).as_posix()
    file_name = rec.filename if sub == "." else f"{sub}/{rec.filename}"
    w, h, boxes = rec.width, rec.height, rec.boxes
    if not w:
        if image_size is None:
            raise FormatError(path, "missing image size", "<size>")
        w, h = probe_size(image_size, img_root / file_name)
        boxes = clamp_boxes(boxes, w, h, path)
    return LabelImage(file_name, w, h, boxes, rec.tags)


def names_file(path: Path) -> list[str]:
    if not path.is_file():
        return []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise FormatError(path, f"cannot read: {e}") from None
    names = [ln.strip() for ln in lines if ln.strip()]
    if len(set(names)) != len(names):
        raise FormatError(path, "duplicate names")
    return names


def _add_name(names: list[str], name: str, fixed: bool, path: Path, kind: str) -> None:
    if name in names:
        return
    if fixed:
        listing = "classes.txt" if kind == "class" else "tags.txt"
        raise FormatError(path, f"{kind} {name!r} is not listed in {listing}")
    names.append(name)
