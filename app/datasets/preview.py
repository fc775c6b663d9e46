"""Plans as the plain data the import preview shows (Qt-free)."""

from __future__ import annotations

from collections import Counter

from app.datasets.importer import skipped_lines
from app.datasets.plan import ImportPlan


def preview_data(plans: list[ImportPlan]) -> dict:
    """One preview for the plans of the dropped or chosen paths."""
    splits: Counter = Counter()
    data = {"title": "Import " + ", ".join(p.root.name for p in plans), "sources": [],
            "images": 0, "boxes": 0, "media": 0, "classes": [], "empty": [], "dropped": [],
            "tags": [], "notes": [], "problems": [], "warnings": [], "choices": []}
    for plan in plans:
        prefix = f"{plan.root.name}: " if len(plans) > 1 else ""
        data["sources"] += [prefix + f for f in plan.formats()]
        data["images"] += len(plan.items)
        data["boxes"] += plan.box_count()
        data["media"] += plan.media_count
        splits.update(plan.splits())
        for key, values in (("classes", plan.categories), ("empty", plan.empty_categories()),
                            ("dropped", plan.dropped), ("tags", plan.tags)):
            data[key] += [v for v in values if v not in data[key]]
        data["notes"] += [f"{n} {what}" for what, n in plan.notes.items()]
        data["problems"] += [ln.strip() for ln in skipped_lines(plan.skipped)]
        data["warnings"] += plan.warnings
        for group in plan.conflicts:
            data["choices"].append({
                "prompt": "These label files describe the same images; choose one:",
                "options": [(f"{r.source.describe(plan.root)}: {len(r.images)} images, "
                             f"{sum(len(i.boxes) + len(i.rows or []) for i in r.images)} boxes",
                             str(r.source.files[0] if r.source.files else r.source.anchor))
                            for r in group]})
    data["splits"] = {k: splits[k] for k in ("train", "val", "test") if splits[k]}
    if not data["sources"] and data["media"] == 0 and not data["choices"]:
        data["warnings"].append("nothing to import here")
    return data
