"""The line protocol of a Kestrel job's log (torch-free, Ray-free: both the job and
the app import it).

A Ray Job's log is its driver's stdout and stderr plus lines Ray forwards from its
workers. Among them, Kestrel's own lines are single JSON objects:

- trainer events (training/events.py), each with an extra ``seq`` (0, 1, 2, … in the
  job), so that a reader who lost the connection replays the log and skips what it
  has already recorded;
- ``{"kestrel": "file", "name", "part", "parts", "size", "sha256", "data"}``: a file
  (a checkpoint) in base64 parts of at most ``CHUNK`` bytes, sent before the run's
  terminal event so that the run is complete when the reader records it;
- ``{"kestrel": "stored", "uri", "files"}``: checkpoints kept on cluster storage;
- ``{"kestrel": "result", ...}`` and ``{"kestrel": "progress", "done", "total"}``:
  prediction and embedding answers (training/cluster/batch.py).

Anything else is a log line for people.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

CHUNK = 1 << 20   # raw bytes per file line (1.4 MB of base64)


def dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def parse(line: str) -> tuple[str, Any]:
    """("event", dict) | ("file"|"stored"|"result"|"progress", dict) | ("log", text)."""
    text = line.rstrip("\r\n")
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            return "log", text
        if isinstance(obj, dict):
            if "event" in obj and "schema" in obj:
                return "event", obj
            kind = obj.get("kestrel")
            if kind in ("file", "stored", "result", "progress"):
                return kind, obj
    return "log", text


def file_lines(name: str, data: bytes) -> Iterator[str]:
    """A file as protocol lines (at least one, even when empty)."""
    digest = hashlib.sha256(data).hexdigest()
    parts = max(1, -(-len(data) // CHUNK))
    for i in range(parts):
        chunk = data[i * CHUNK:(i + 1) * CHUNK]
        yield dumps({"kestrel": "file", "name": name, "part": i, "parts": parts,
                     "size": len(data), "sha256": digest,
                     "data": base64.b64encode(chunk).decode("ascii")})


class FileAssembler:
    """Writes ``file`` lines into ``folder``: parts go to ``NAME.part`` and the file
    replaces ``NAME`` only once whole and its sha256 checked; replayed parts of a
    file already in place are skipped. Names are plain file names (no folders)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._open: dict[str, Any] = {}

    def feed(self, obj: dict[str, Any]) -> Path | None:
        """Take one part; the path of the finished file after its last part."""
        name = Path(str(obj["name"])).name
        if name in ("", ".", "..") or name != obj["name"]:
            raise ValueError(f"refusing a file named {obj['name']!r}")
        final = self.folder / name
        part = self.folder / (name + ".part")
        if obj["part"] == 0:
            if final.is_file() and _sha256(final) == obj["sha256"]:
                self._open[name] = None   # already here: a replay
            else:
                self._open[name] = open(part, "wb")
        f = self._open.get(name)
        if f is None:
            return final if obj["part"] == obj["parts"] - 1 and final.is_file() else None
        f.write(base64.b64decode(obj["data"]))
        if obj["part"] < obj["parts"] - 1:
            return None
        f.close()
        del self._open[name]
        if _sha256(part) != obj["sha256"]:
            part.unlink(missing_ok=True)
            raise ValueError(f"{name}: the received file does not match its checksum")
        os.replace(part, final)
        return final

    def close(self) -> None:
        for f in self._open.values():
            if f is not None:
                f.close()
        self._open.clear()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
