"""Search filters: which items a search may return, by the facts every vector
store keeps beside each vector (its payload, see ``app.search.stores.base``).

A ``Where`` is a conjunction of conditions; one condition holds when the item's
field has ANY of the values (for the list fields ``tags`` and ``classes``: when they
share one), or, negated, none of them. Names are resolved to ids against the
project once, so renaming a tag or class never touches a store.

``kestrel search … --where tag=bees --where split=val --where unlabelled`` and the
Search tab's filter row both end here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

# what a person writes -> payload field
FIELDS = {"tag": "tags", "class": "classes", "split": "split", "media": "media_kind",
          "kind": "kind", "labelled": "labelled"}
LIST_FIELDS = ("tags", "classes")
SPLITS = ("train", "val", "test", "none")
CHOICES = {"split": SPLITS, "media": ("image", "video"), "kind": ("image", "frame", "box")}
FORMS = ("tag=NAME", "tag!=NAME", "class=NAME", "class!=NAME", "split=train|val|test|none",
         "media=image|video", "kind=image|frame|box", "labelled", "unlabelled")


class FilterError(ValueError):
    """A filter a person wrote that cannot be understood; the message says why."""


@dataclass(frozen=True)
class Condition:
    field: str                  # a payload field (FIELDS' values)
    values: tuple               # any of these (ids for tags/classes)
    negate: bool = False        # none of these

    def matches(self, payload: dict[str, Any]) -> bool:
        have = payload[self.field]
        if self.field in LIST_FIELDS:
            hit = any(v in have for v in self.values)
        else:
            hit = have in self.values
        return hit != self.negate


@dataclass(frozen=True)
class Where:
    conditions: tuple[Condition, ...] = ()
    text: str = ""              # as the person wrote it, for status lines

    def __bool__(self) -> bool:
        return bool(self.conditions)

    def matches(self, payload: dict[str, Any]) -> bool:
        """The reference meaning every store implements."""
        return all(c.matches(payload) for c in self.conditions)

    def also(self, *conditions: Condition) -> "Where":
        return Where(self.conditions + tuple(conditions), self.text)


def kinds(kinds: Iterable[str]) -> Condition:
    """Items of these kinds only (image, frame, box)."""
    return Condition("kind", tuple(kinds))


def parse(texts: Iterable[str], project) -> Where:
    """``["tag=bees", "split=val", "unlabelled"]`` -> a Where with names as ids."""
    texts = [t.strip() for t in texts if t and t.strip()]
    return Where(tuple(_condition(t, project) for t in texts), ", ".join(texts))


def build(project, *, tag: str | None = None, cls: str | None = None, split: str | None = None,
          labelled: bool | None = None, media: str | None = None) -> Where:
    """The Search tab's filter row (None: any) as a Where."""
    texts = []
    if tag:
        texts.append(f"tag={tag}")
    if cls:
        texts.append(f"class={cls}")
    if split:
        texts.append(f"split={split}")
    if labelled is not None:
        texts.append("labelled" if labelled else "unlabelled")
    if media:
        texts.append(f"media={media}")
    return parse(texts, project)


def _condition(text: str, project) -> Condition:
    low = text.lower()
    if low in ("labelled", "labeled", "unlabelled", "unlabeled"):
        return Condition("labelled", (True,), negate=low.startswith("un"))
    negate = "!=" in text
    name, sep, value = text.partition("!=" if negate else "=")
    name, value = name.strip().lower(), value.strip()
    if not sep or name not in FIELDS or name == "labelled" or not value:
        raise FilterError(f"--where {text!r}: expected one of {', '.join(FORMS)}")
    if name == "tag":
        ids = {t.name: t.id for t in project.tags.all()}
        if value not in ids:
            raise FilterError(f"--where {text!r}: no tag named {value!r} "
                              f"(tags: {', '.join(ids) or 'none yet'})")
        return Condition("tags", (ids[value],), negate)
    if name == "class":
        found = project.classes.by_name(value)
        if found is None:
            names = [c.name for c in project.classes.all()]
            raise FilterError(f"--where {text!r}: no class named {value!r} "
                              f"(classes: {', '.join(names) or 'none yet'})")
        return Condition("classes", (found.id,), negate)
    values = tuple(v.strip().lower() for v in value.split(",") if v.strip())
    bad = [v for v in values if v not in CHOICES[name]]
    if bad or not values:
        raise FilterError(f"--where {text!r}: {name} is one of {', '.join(CHOICES[name])}")
    return Condition(FIELDS[name], values, negate)
