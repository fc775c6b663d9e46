"""How the panel shows each template's start and applies the settings suggested for
this machine (plain template dicts in: ``start_note``, ``random_start``,
``suggested``; see app/runs/defaults.py)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt

WARN_COLOUR = "#e8a33d"


def item_text(t: dict) -> str:
    """The template list's entry: a template that would start from random weights
    says so."""
    return t["name"] + ("  ⚠ random start" if t.get("random_start") else "")


def item_tip(t: dict) -> str:
    return "\n".join(x for x in (t["description"], t["hint"], t.get("start_note")) if x)


def hint_html(t: dict | None) -> str:
    if not t:
        return ""
    text = html.escape(t["hint"])
    if t.get("start_note"):
        style = f" style='color:{WARN_COLOUR}'" if t.get("random_start") else ""
        text += f"<br><span{style}>starts from: {html.escape(t['start_note'])}</span>"
    return text


def apply_suggested(form, t: dict | None) -> None:
    for name, value in ((t or {}).get("suggested") or {}).items():
        if name in form.editors:
            form.set_value(name, value)


def follow_suggestions(form, old: dict, new: dict) -> None:
    """The device changed: a field takes its new suggestion (or its default) only
    if the user left it at its default or at the old suggestion."""
    values, fields = form.values(), {f["name"]: f for f in form.fields}
    for name in set(old) | set(new):
        f = fields.get(name)
        if f is None:
            continue
        raw = values.get(name, "")
        was = old[name] if name in old else f["default"]
        if form.same_as(f, raw, was) or form.same_as(f, raw, f["default"]):
            form.set_value(name, new.get(name, f["default"]))


def label_items(box, templates: list[dict]) -> None:
    """Each template's text and tooltip in the combo box (after its marks changed)."""
    by_name = {t["name"]: t for t in templates}
    for i in range(box.count()):
        t = by_name[box.itemData(i)]
        box.setItemText(i, item_text(t))
        box.setItemData(i, item_tip(t), Qt.ToolTipRole)
