"""The same search suite runs against every vector store: the embedded default and
Qdrant's local mode (``qdrant-client`` comes with the test extra)."""
from __future__ import annotations

import pytest

STORES = ["embedded", "qdrant-local"]


@pytest.fixture(params=STORES)
def store_kind(request) -> str:
    return request.param


@pytest.fixture
def make_store(store_kind, tmp_path):
    """make_store(name) -> an empty store of the kind under test (closed afterwards)."""
    from app.search.stores import EmbeddedStore
    from app.search.stores.qdrant import QdrantStore

    made = []

    def make(name: str = "c"):
        store = (EmbeddedStore() if store_kind == "embedded"
                 else QdrantStore(name, path=tmp_path / "qdrant" / name))
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def spec_text(store_kind) -> str:
    """What a person writes to choose the store under test."""
    return {"embedded": "embedded", "qdrant-local": "qdrant://local"}[store_kind]
