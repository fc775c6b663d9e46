"""The small part of YAML that YOLO ``data.yaml`` files use, so reading them needs no
PyYAML (it is used when installed, since it understands everything).

Understood: top-level ``key: scalar``; ``key: [a, b]`` and ``key: {0: a, 1: b}`` flow
collections of scalars; a ``key:`` followed by an indented block list (``- a``) or
block mapping (``0: a``); plain, 'single' and "double" quoted scalars; ``#`` comments.
Anything nested deeper under other keys (Ultralytics' ``download:`` scripts) is
skipped. What cannot be understood is a FormatError naming the line.
"""

from __future__ import annotations

import json
import re

from .labelset import FormatError

_KEY = re.compile(r"^([A-Za-z_][\w-]*|\d+)\s*:(?:\s+(.*))?$")


def _strip_comment(s: str) -> str:
    """Remove a trailing ``# comment`` outside quotes."""
    quote = None
    for i, ch in enumerate(s):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or s[i - 1] in " \t"):
            return s[:i].rstrip()
    return s.rstrip()


def _scalar(s: str, path: object, where: str) -> object:
    s = s.strip()
    if s.startswith('"'):
        try:
            return json.loads(s)
        except json.JSONDecodeError:
            raise FormatError(path, f"bad double-quoted string {s}", where) from None
    if s.startswith("'"):
        if len(s) < 2 or not s.endswith("'"):
            raise FormatError(path, f"bad single-quoted string {s}", where)
        return s[1:-1].replace("''", "'")
    if re.fullmatch(r"[-+]?\d+", s):
        return int(s)
    if s in ("", "~", "null"):
        return None
    return s


def _split_flow(body: str, path: object, where: str) -> list[str]:
    """Split ``a, 'b, c', "d"`` on commas outside quotes."""
    items, cur, quote = [], [], None
    for ch in body:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            cur.append(ch)
        elif ch == ",":
            items.append("".join(cur))
            cur = []
        elif ch in "[]{}":
            raise FormatError(path, "nested collections are not supported", where)
        else:
            cur.append(ch)
    if quote:
        raise FormatError(path, "unterminated quote", where)
    items.append("".join(cur))
    items = [i.strip() for i in items]
    if items and items[-1] == "":
        items.pop()  # trailing comma
    return items


def _flow(value: str, path: object, where: str) -> object:
    if value.startswith("[") and value.endswith("]"):
        return [_scalar(i, path, where) for i in _split_flow(value[1:-1], path, where)]
    if value.startswith("{") and value.endswith("}"):
        out = {}
        for item in _split_flow(value[1:-1], path, where):
            m = _KEY.match(item)
            if not m:
                raise FormatError(path, f"expected 'key: value', got {item!r}", where)
            out[_scalar(m.group(1), path, where)] = _scalar(m.group(2) or "", path, where)
        return out
    return _scalar(value, path, where)


def parse_simple_yaml(text: str, path: object) -> dict:
    """Top-level mapping of a data.yaml file."""
    out: dict = {}
    key = None
    block: list | dict | str | None = None  # "pending": ``names:`` awaiting its block
    for n, raw in enumerate(text.splitlines(), 1):
        where = f"line {n}"
        line = _strip_comment(raw)
        if not line.strip() or line.strip() == "---":
            continue
        if line[0] in " \t" or line == "-" or line.startswith("- "):
            if key is None:
                raise FormatError(path, "indented line outside any key", where)
            if block is None:
                continue  # nested under a key we do not interpret
            item = line.strip()
            is_item = item == "-" or item.startswith("- ")
            if block == "pending":
                block = out[key] = [] if is_item else {}
            if isinstance(block, list) and is_item:
                block.append(_scalar(item[1:], path, where))
            elif isinstance(block, dict) and (m := _KEY.match(item)):
                block[_scalar(m.group(1), path, where)] = _scalar(m.group(2) or "", path, where)
            else:
                raise FormatError(path, f"cannot parse {item!r}", where)
            continue
        m = _KEY.match(line)
        if not m:
            raise FormatError(path, f"expected 'key: value', got {line.strip()!r}", where)
        key, value = m.group(1), (m.group(2) or "").strip()
        block = None
        if not value or value[0] in "|>":
            # only a ``names`` block matters; other blocks (scripts) are skipped
            out[key] = None
            block = "pending" if key == "names" and not value else None
        else:
            out[key] = _flow(value, path, where)
    return out


def load_yaml(text: str, path: object) -> dict:
    """PyYAML's safe_load when available, otherwise ``parse_simple_yaml``."""
    try:
        import yaml
    except ImportError:
        data = parse_simple_yaml(text, path)
    else:
        try:
            data = yaml.safe_load(text)
        except (yaml.YAMLError, RecursionError) as e:
            raise FormatError(path, f"invalid YAML: {e}") from None
    if not isinstance(data, dict):
        raise FormatError(path, "expected a mapping at top level")
    return data
