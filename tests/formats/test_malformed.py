"""Mutated valid files (dropped keys, wrong types, garbage lines, truncation) always
give a label set or a FormatError naming the file, never another exception."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.store.formats import (FormatError, LabelBox, LabelImage, LabelSet, read_coco,
                               read_voc, read_yolo, write_coco, write_voc, write_yolo)

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SAMPLE = LabelSet(
    ["cat", "dog"], ["night"],
    [LabelImage("a.jpg", 100, 80, [LabelBox("cat", 1, 2, 30, 40, 3, 0.5),
                                   LabelBox("dog", 10, 10, 90, 70)], ["night"]),
     LabelImage("b/c.jpg", 64, 64, [LabelBox("dog", 0, 0, 64, 64)])])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8)


def _paths(node, prefix=()):
    """Every (container path, key) in a JSON tree."""
    if isinstance(node, dict):
        items = node.items()
    else:
        items = enumerate(node) if isinstance(node, list) else ()
    for k, v in items:
        yield prefix, k
        yield from _paths(v, prefix + (k,))


OUTCOMES: dict[str, int] = {}


def _attempt(read, root: Path):
    """Only a LabelSet or a FormatError about a file of this data set may come back."""
    try:
        read()
        OUTCOMES["read"] = OUTCOMES.get("read", 0) + 1
    except FormatError as e:
        OUTCOMES["error"] = OUTCOMES.get("error", 0) + 1
        assert e.path.startswith(str(root)) and str(e).startswith(e.path), e


@FAST
@given(st.data())
def test_mutated_coco(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d, "c.json")
        write_coco(SAMPLE, path)
        tree = json.loads(path.read_text(encoding="utf-8"))
        for _ in range(data.draw(st.integers(1, 3))):
            spots = list(_paths(tree))
            prefix, key = data.draw(st.sampled_from(spots))
            parent = tree
            for k in prefix:
                parent = parent[k]
            if data.draw(st.booleans()) and isinstance(parent, dict):
                del parent[key]
            else:
                parent[key] = data.draw(json_values)
        text = json.dumps(tree)
        if data.draw(st.booleans()):
            text = text[: data.draw(st.integers(0, len(text)))]
        path.write_text(text, encoding="utf-8")
        _attempt(lambda: read_coco(path), Path(d))


@FAST
@given(st.data())
def test_mutated_voc(data):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        write_voc(SAMPLE, root)
        xml = root / "Annotations" / "a.xml"
        text = xml.read_text(encoding="utf-8")
        lines = text.splitlines()
        how = data.draw(st.sampled_from(["drop", "replace", "truncate", "garbage", "classes"]))
        i = data.draw(st.integers(0, len(lines) - 1))
        if how == "drop":
            del lines[i]
        elif how == "replace":
            odd = st.sampled_from(["-1", "1e999", "nan", "3.5", ""])
            inner = data.draw(st.text(max_size=8) | odd)
            lines[i] = lines[i].split(">")[0] + ">" + inner + "</" + lines[i].split("</")[-1] \
                if "</" in lines[i] else inner
        elif how == "garbage":
            lines.insert(i, data.draw(st.text(max_size=20)))
        text = "\n".join(lines)
        if how == "truncate":
            text = text[: data.draw(st.integers(0, len(text)))]
        if how == "classes":
            (root / "classes.txt").write_text(data.draw(st.text(max_size=20)), encoding="utf-8")
        xml.write_text(text, encoding="utf-8")
        _attempt(lambda: read_voc(root), root)


@FAST
@given(st.data())
def test_mutated_yolo(data):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        write_yolo(SAMPLE, root)
        for im in SAMPLE.images:
            (root / "images" / im.file_name).parent.mkdir(parents=True, exist_ok=True)
            (root / "images" / im.file_name).touch()
        target = data.draw(st.sampled_from(["labels/a.txt", "data.yaml", "classes.txt"]))
        f = root / target
        lines = f.read_text(encoding="utf-8").splitlines()
        token = st.sampled_from(["0", "1", "7", "-1", "0.5", "2.0", "nan", "inf", "x", "", "1e400",
                                 "names:", "- a", "[", "{", "'", '"', "#", ":", "  "])
        for _ in range(data.draw(st.integers(1, 3))):
            i = data.draw(st.integers(0, max(len(lines) - 1, 0)))
            new = " ".join(data.draw(st.lists(token, max_size=7)))
            if data.draw(st.booleans()) or not lines:
                lines.insert(i, new)
            else:
                lines[i] = new
        f.write_text("\n".join(lines), encoding="utf-8")
        _attempt(lambda: read_yolo(root, lambda p: (100, 80)), root)


def test_mutations_mostly_fail():
    """Guard against mutations so mild that the tests above check nothing."""
    if OUTCOMES:  # only meaningful when the hypothesis tests ran in this session
        assert OUTCOMES.get("error", 0) > OUTCOMES.get("read", 0) / 4, OUTCOMES
