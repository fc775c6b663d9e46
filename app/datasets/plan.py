"""What an import will do, worked out before anything is written: the sources found,
the images each describes and where they are, classes, splits and every problem. The
CLI prints it after importing; the window shows it as a preview first.

``plan_import`` raises ``DatasetError`` when there is nothing it could import
(labels asked for and none found) and ``FormatError`` when a label file is malformed
or points outside the dataset folder; both are reported as one line, exit code 2.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from app.datasets.read import SourceResult, read_source
from app.datasets.resolve import OutsideError, Resolver
from app.datasets.scan import Inventory, media_name, scan, split_name
from app.datasets.sources import ANNOTATION_DIRS, KINDS, Source, find_sources
from app.datasets.splits import find_splits, path_split
from app.store.dataset_io import ImportItem
from app.store.formats import FormatError
from app.store.formats.coco import PLACEHOLDER_NAMES
from app.store.probe import IMAGE_EXTS, MEDIA_EXTS

_PREFERENCE = {k: i for i, k in enumerate(("coco", "voc", "labelme", "yolo", "folders"))}


class DatasetError(ValueError):
    """Nothing can be imported: one line for the user, exit code 2."""


@dataclass
class ImportPlan:
    root: Path
    sources: list[SourceResult] = field(default_factory=list)     # used
    conflicts: list[list[SourceResult]] = field(default_factory=list)  # the user must choose
    items: list[ImportItem] = field(default_factory=list)
    media: list[Path] = field(default_factory=list)     # plain media import, no labels
    media_count: int = 0                                 # files in it, as far as the scan saw
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)    # placeholder categories left out
    notes: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def labelled(self) -> bool:
        return bool(self.sources or self.conflicts)

    def formats(self) -> list[str]:
        return [r.source.describe(self.root) for r in self.sources]

    def box_count(self) -> int:
        return sum(len(i.boxes) + len(i.rows or []) for i in self.items)

    def splits(self) -> dict[str, int]:
        c = Counter(i.split for i in self.items if i.split)
        return {s: c[s] for s in ("train", "val", "test") if c[s]}

    def empty_categories(self) -> list[str]:
        used = {b.category for i in self.items for b in i.boxes}
        used |= {r[0] for i in self.items if i.rows for r in i.rows}
        return [c for c in self.categories if c not in used]


def plan_import(path: str | os.PathLike, fmt: str = "auto", annotations: list[str] = (),
                images: str | None = None, allow_outside: bool = False) -> ImportPlan:
    """Plan the import of ``path``: a folder (every source in it), a label file (that
    source only; its dataset folder is found above it) or a media file. ``annotations``
    names the label files (or folders) to use where several describe the same images."""
    path = Path(path).expanduser().absolute()
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder")
    chosen = [Path(a).expanduser().absolute() for a in annotations]
    explicit = None
    if path.is_file():
        if path.suffix.lower() in MEDIA_EXTS or fmt == "media":
            return ImportPlan(path.parent, media=[path], media_count=1)
        explicit, root = path, dataset_root(path)
    else:
        root = path
    inv = scan(root)
    plan = ImportPlan(root)
    if fmt == "media":
        plan.media, plan.media_count = [root], len(inv.images) + len(inv.videos)
        return plan
    sources = find_sources(inv, plan.skipped)
    if fmt != "auto":
        sources = [s for s in sources if s.kind == fmt]
    if explicit is not None:
        sources = [s for s in sources if explicit in s.files or explicit == s.anchor]
        if not sources:
            raise DatasetError(f"{explicit}: not a label file Kestrel can read "
                               f"(COCO, Pascal VOC, YOLO or labelme)")
    if not sources:
        if fmt != "auto":
            raise DatasetError(f"{root}: no {fmt} labels found")
        plan.media, plan.media_count = [root], len(inv.images) + len(inv.videos)
        _warn_if_labelled(inv, plan)
        return plan
    resolver = Resolver(inv, allow_outside)
    splits = find_splits(inv, inv.label_files(".yaml", ".yml"), resolver)
    results = _read_all(sources, inv, resolver, splits, Path(images).absolute() if images else None,
                        strict=explicit is not None, plan=plan)
    _choose(results, plan, chosen)
    _assemble(inv, plan)
    return plan


def dataset_root(label_file: Path) -> Path:
    """The dataset folder of a label file: above its annotation and split folders
    (``ds/labels/train/a.txt``, ``ds/annotations/x.json``, ``ds/valid/_annotations.coco.json``)."""
    root = label_file.parent
    while root.parent != root and (root.name.lower() in ANNOTATION_DIRS or split_name(root.name)):
        root = root.parent
    return root


def _read_all(sources: list[Source], inv, resolver, splits, images_opt, strict: bool,
              plan: ImportPlan) -> list[SourceResult]:
    good: list[SourceResult] = []
    failed: list[tuple[Source, FormatError]] = []
    for src in sources:
        if src.error is not None:
            failed.append((src, src.error))
            continue
        try:
            good.append(read_source(src, inv, resolver, splits, images_opt))
        except FormatError as e:
            if strict or isinstance(e, OutsideError):
                raise
            failed.append((src, e))
    for src, err in failed:
        # another source describing the same folder parsed: this one was a stray file
        if any(r.source.anchor == src.anchor or r.source.anchor in src.anchor.parents
               or src.anchor in r.source.anchor.parents for r in good):
            plan.skipped.append((str(src.files[0]), f"not used: it does not parse ({err})"))
        else:
            raise err
    return good


def _choose(results: list[SourceResult], plan: ImportPlan, chosen: list[Path] = ()) -> None:
    """Sources describing the same images: the user's choice (``chosen``) wins, identical
    ones collapse to one (COCO first), COCO ``instances_*`` beats keypoints/captions,
    anything else is for the user."""
    paths = [{im.path for im in r.images} for r in results]
    groups: list[list[int]] = []
    for i in range(len(results)):
        linked = [g for g in groups if any(paths[i] & paths[j] for j in g)]
        merged = [i] + [j for g in linked for j in g]
        groups = [g for g in groups if g not in linked] + [sorted(merged)]
    for g in sorted(groups):
        members = [results[i] for i in g]
        picked = [r for r in members if _is_chosen(r.source, chosen)]
        if len(members) > 1 and picked:
            for r in members:
                if r not in picked:
                    plan.skipped.append((r.source.describe(plan.root), "not used: another source was chosen"))
            members = picked
        if len(members) > 1:
            members = _prefer_instances(members, plan)
        if len(members) > 1 and _agree(members):
            members.sort(key=lambda r: _PREFERENCE[r.source.kind])
            for other in members[1:]:
                plan.skipped.append((other.source.describe(plan.root),
                                     f"not used: same images and boxes as {members[0].source.describe(plan.root)}"))
            members = members[:1]
        if len(members) > 1:
            plan.conflicts.append(members)
        else:
            plan.sources += members


def _is_chosen(src: Source, chosen) -> bool:
    return any(c in src.files or c == src.anchor for c in chosen)


def _prefer_instances(members: list[SourceResult], plan: ImportPlan) -> list[SourceResult]:
    inst = [r for r in members if r.source.kind == "coco" and r.source.files[0].stem.startswith("instances")]
    if not inst:
        return members
    for r in members:
        if r.source.kind == "coco" and r not in inst:
            plan.skipped.append((str(r.source.files[0]), "not used: the instances file describes these images"))
    return [r for r in members if r in inst or r.source.kind != "coco"]


def _agree(members: list[SourceResult]) -> bool:
    def counts(r):
        return sorted((str(im.path), len(im.boxes) + len(im.rows or [])) for im in r.images)
    first = counts(members[0])
    return all(counts(r) == first for r in members[1:])


def _assemble(inv: Inventory, plan: ImportPlan) -> None:
    seen: dict[Path, ImportItem] = {}
    labelled_dirs: set[Path] = set()
    for r in plan.sources:
        ls = r.labels
        for c in ls.categories:
            if c not in plan.categories:
                plan.categories.append(c)
        plan.tags += [t for t in ls.tags if t not in plan.tags]
        plan.dropped += [d for d in ls.dropped if d not in plan.dropped]
        for k, v in ls.notes.items():
            plan.notes[k] = plan.notes.get(k, 0) + v
        plan.skipped += ls.skipped
        for im in r.images:
            if im.path in seen:
                continue
            im.name = media_name(inv, im.path)
            seen[im.path] = im
            plan.items.append(im)
            if r.source.kind != "coco":
                labelled_dirs.add(im.path.parent)
    # images beside labelled ones that have no label file: negatives, imported bare
    extra = [p for p in inv.images if p.parent in labelled_dirs and p not in seen]
    for p in extra:
        item = ImportItem(p, split=path_split(inv, p))
        item.name = media_name(inv, p)
        plan.items.append(item)
        seen[p] = item
    if extra:
        plan.notes["images without a label file, imported without boxes"] = len(extra)
    # placeholders no box uses are not created; other empty categories stay
    empty = set(plan.empty_categories())
    used = {c for c in plan.categories if c not in empty}
    for c in list(plan.categories):
        if c in PLACEHOLDER_NAMES and c not in used:
            plan.categories.remove(c)
            plan.dropped.append(c)
    left = [p for p in inv.images if p not in seen]
    if left and plan.sources:
        in_conflict = {im.path for g in plan.conflicts for r in g for im in r.images}
        left = [p for p in left if p not in in_conflict]
        dirs = Counter(inv.rel(p.parent) and "/".join(inv.rel(p)[:-1]) or "." for p in left)
        if left:
            where = ", ".join(f"{d}/ ({n})" for d, n in dirs.most_common(3))
            plan.notes[f"images no label file refers to, not imported (in {where})"] = len(left)


def _warn_if_labelled(inv: Inventory, plan: ImportPlan) -> None:
    """A folder that looks like a labelled dataset but gave no labels: say so loudly."""
    hints = []
    dirs = [d for d in inv.dirs if d.name.lower() in ANNOTATION_DIRS]
    if dirs:
        hints.append(f"a {dirs[0].name}/ folder")
    for suffix in (".xml", ".json", ".txt", ".yaml", ".yml"):
        n = len([p for p in inv.labels.get(suffix, []) if not p.name.lower().startswith("readme")])
        if n:
            hints.append(f"{n} {suffix} file{'s' if n != 1 else ''}")
    if hints and inv.images:
        plan.warnings.append(
            f"{inv.root} looks like a labelled dataset ({', '.join(hints)}) but no labels "
            f"could be read or matched to its {len(inv.images)} images: they are imported "
            "WITHOUT boxes. Check the skipped files below, or name the label file with "
            "--annotations FILE and the format with --format.")


__all__ = ["DatasetError", "ImportPlan", "KINDS", "plan_import", "IMAGE_EXTS"]
