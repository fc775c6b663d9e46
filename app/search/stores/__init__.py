"""Vector stores for visual search: where a run's vectors are searched.

The choice is a project setting (``search.store``), written by ``kestrel search
--store SPEC`` or the Search tab's store field:

- ``embedded`` (the default): the project's SQLite, an in-memory numpy/faiss index;
- ``qdrant://local``: Qdrant's local mode in ``PROJECT/vectors/qdrant`` (no server);
- ``qdrant://HOST[:PORT]`` (http, port 6333 by default), ``qdrant+https://HOST[:PORT]``,
  or a plain ``http(s)://`` URL: a Qdrant server. Its API key comes from
  ``--api-key``, the Search tab's key field, or ``QDRANT_API_KEY``; it is never
  written into the project.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.search.stores.base import Hit, Point, StoreError, VectorStore, payload_of
from app.search.stores.embedded import EmbeddedStore

__all__ = ["EmbeddedStore", "Hit", "Point", "StoreError", "StoreSpec", "VectorStore",
           "current_spec", "open_store", "parse_spec", "payload_of", "save_spec"]

SETTING = "search.store"
LOCAL_FOLDER = Path("vectors") / "qdrant"
FORMS = "embedded, qdrant://local, qdrant://HOST[:PORT], qdrant+https://HOST[:PORT] or http(s)://URL"


@dataclass(frozen=True)
class StoreSpec:
    text: str                      # normalised, as saved in the settings
    kind: str                      # "embedded" | "qdrant"
    url: str | None = None         # a Qdrant server
    local: bool = False            # Qdrant local mode in the project folder

    @property
    def label(self) -> str:
        if self.kind == "embedded":
            return "embedded"
        return "Qdrant, local folder" if self.local else f"Qdrant server {self.url}"


def parse_spec(text: str | None) -> StoreSpec:
    text = (text or "").strip()
    low = text.lower()
    if low in ("", "embedded", "sqlite"):
        return StoreSpec("embedded", "embedded")
    if low in ("qdrant://local", "qdrant:local", "qdrant"):
        return StoreSpec("qdrant://local", "qdrant", local=True)
    scheme, _, rest = text.partition("://")
    scheme = scheme.lower()
    http = {"qdrant": "http", "qdrant+http": "http", "qdrant+https": "https",
            "http": "http", "https": "https"}.get(scheme)
    parts = urlsplit(f"{http}://{rest}") if http and rest else None
    if parts is None or not parts.hostname:
        raise StoreError(f"unknown vector store {text!r}: expected {FORMS}")
    try:
        port = parts.port or (6333 if scheme.startswith("qdrant") else None)
    except ValueError:
        raise StoreError(f"vector store {text!r}: the port is not a number") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    url = f"{http}://{host}" + (f":{port}" if port else "") + parts.path.rstrip("/")
    return StoreSpec(url if scheme in ("http", "https") else f"{scheme}://{rest.rstrip('/')}",
                     "qdrant", url=url)


def current_spec(project) -> StoreSpec:
    """The project's choice; a setting that no longer parses falls back to embedded."""
    try:
        return parse_spec(project.settings.get(SETTING))
    except StoreError:
        return parse_spec("embedded")


def save_spec(project, text: str) -> StoreSpec:
    spec = parse_spec(text)
    project.settings.set(SETTING, None if spec.kind == "embedded" else spec.text)
    return spec


def project_uid(project) -> str:
    """A random id for this project, made once, naming its collections on a server."""
    key = "search.project_uid"
    uid = project.settings.get(key)
    if uid:
        return uid
    with project.transaction():      # two connections making one at once: one wins
        uid = project.settings.get(key)
        if not uid:
            uid = uuid.uuid4().hex[:12]
            project.settings.set(key, uid)
    return uid


def open_store(project, run_id: int, spec: StoreSpec | None = None,
               api_key: str | None = None) -> VectorStore:
    """The store for one run's vectors (empty until ``app.search.sync.sync`` fills it)."""
    spec = spec or current_spec(project)
    if spec.kind == "embedded":
        return EmbeddedStore()
    from app.search.stores.qdrant import QdrantStore

    collection = f"kestrel_{project_uid(project)}_run{run_id}"
    state_key = f"search.synced {spec.text} {collection}"
    if spec.local:
        return QdrantStore(collection, path=project.root / LOCAL_FOLDER, state_key=state_key)
    return QdrantStore(collection, url=spec.url, state_key=state_key,
                       api_key=api_key or os.environ.get("QDRANT_API_KEY"))
