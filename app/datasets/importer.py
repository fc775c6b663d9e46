"""Carrying out an import plan, and the summary every import ends with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from app.datasets.plan import DatasetError, ImportPlan
from app.store.dataset_io import import_items

Progress = Callable[[str, int, int], None]


@dataclass
class ImportSummary:
    root: str
    formats: list[str] = field(default_factory=list)
    images: int = 0
    new_media: int = 0
    boxes: int = 0
    duplicates: int = 0
    classes_new: list[str] = field(default_factory=list)
    classes_existing: list[str] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    tags_new: list[str] = field(default_factory=list)
    splits: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    media_added: int = 0
    media_already: int = 0

    @property
    def imported(self) -> bool:
        return bool(self.images or self.media_added or self.media_already)

    def lines(self) -> list[str]:
        out = [f"import {self.root}"]
        if self.formats:
            out.append("  from     " + "; ".join(self.formats))
            out.append(f"  images   {self.images} ({self.new_media} new)")
            dup = f" (+{self.duplicates} already in the project)" if self.duplicates else ""
            out.append(f"  boxes    {self.boxes}{dup}")
            out.append("  classes  " + _classes(self))
            if self.empty_classes:
                out.append("           no boxes, kept: " + ", ".join(self.empty_classes))
            if self.dropped:
                out.append("           placeholders, not created: " + ", ".join(self.dropped))
            if self.tags_new:
                out.append("  tags     new: " + ", ".join(self.tags_new))
            out.append("  splits   " + (", ".join(f"{k} {v}" for k, v in self.splits.items())
                                        or "none (training splits at random)"))
        else:
            n = self.media_added
            out.append(f"  media    imported {n} media file{'s' if n != 1 else ''}"
                       + (f", {self.media_already} already in the project" if self.media_already else ""))
        for what, n in self.notes.items():
            out.append(f"  note     {n} {what}")
        out += skipped_lines(self.skipped)
        return out


def _classes(s: ImportSummary) -> str:
    parts = []
    if s.classes_new:
        parts.append(f"{len(s.classes_new)} new: " + ", ".join(s.classes_new))
    if s.classes_existing:
        parts.append(f"{len(s.classes_existing)} existing: " + ", ".join(s.classes_existing))
    return "; ".join(parts) or "none"


def skipped_lines(skipped: list[tuple[str, str]], each: int = 10, examples: int = 3) -> list[str]:
    """Every skipped file with its reason; grouped by reason when there are many."""
    if not skipped:
        return []
    out = [f"  skipped  {len(skipped)} file{'s' if len(skipped) != 1 else ''}:"]
    if len(skipped) <= each:
        return out + [f"    {path}: {reason}" for path, reason in skipped]
    groups: dict[str, list[str]] = {}
    for path, reason in skipped:
        groups.setdefault(reason.split(": ")[0], []).append(path)
    for reason, paths in sorted(groups.items(), key=lambda g: -len(g[1])):
        shown = ", ".join(paths[:examples]) + (", …" if len(paths) > examples else "")
        out.append(f"    {reason} ({len(paths)}): {shown}")
    return out


def run_import(project, plan: ImportPlan, progress: Progress | None = None,
               check: Callable[[], None] | None = None) -> ImportSummary:
    """Write what ``plan`` found into ``project`` in one transaction (media-only plans:
    the media import's own). ``check`` may raise ``Cancelled``: nothing is kept."""
    if plan.conflicts:
        raise DatasetError(conflict_message(plan))
    s = ImportSummary(str(plan.root), plan.formats(), notes=dict(plan.notes),
                      skipped=list(plan.skipped), warnings=list(plan.warnings),
                      dropped=list(plan.dropped))
    if plan.media:
        def step(n: int) -> None:
            if check:
                check()
            if progress:
                progress("reading media", n, 0)
        report = project.media.import_files(plan.media, progress=step)
        s.media_added, s.media_already = len(report.added), len(report.already)
        s.skipped += report.skipped
        return s
    r = import_items(project, plan.items, plan.categories, plan.tags, progress, check)
    s.images, s.new_media, s.boxes, s.duplicates = r.images, r.new_media, r.boxes, r.duplicates
    s.classes_new, s.classes_existing = r.classes, r.classes_existing
    s.empty_classes = plan.empty_categories()
    s.tags_new = r.tags
    s.splits = {k: r.splits[k] for k in ("train", "val", "test") if k in r.splits}
    s.skipped += r.skipped
    return s


def conflict_message(plan: ImportPlan) -> str:
    parts = []
    for group in plan.conflicts:
        options = "; ".join(
            f"{r.source.files[0] if r.source.files else r.source.anchor} "
            f"({r.source.kind}, {len(r.images)} images, "
            f"{sum(len(i.boxes) + len(i.rows or []) for i in r.images)} boxes)" for r in group)
        parts.append(options)
    return ("several label sources describe the same images; choose one with --annotations FILE: "
            + " | ".join(parts))


def nothing_message(plan: ImportPlan, s: ImportSummary) -> str:
    """Why nothing came in, in one line."""
    if s.skipped:
        reasons = sorted({r.split(": ")[0] for _, r in s.skipped})
        return (f"{plan.root}: nothing could be imported ({len(s.skipped)} skipped: "
                + "; ".join(reasons[:3]) + ")")
    return f"{plan.root}: no images found"


__all__ = ["ImportSummary", "Path", "conflict_message", "nothing_message", "run_import",
           "skipped_lines"]
