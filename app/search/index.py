"""Visual search and the tag classifier on top of stored embeddings (Qt-free,
torch-free: vectors come from the store, or from an Embedder the caller passes).

Search is exact cosine similarity: vectors are unit length, so one matrix product
scores them all and ``np.argpartition`` picks the top k. With faiss importable
(optional, not a dependency) an IndexFlatIP, or HNSW for very large sets, is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from app.store.models import EmbeddingKey

HNSW_FROM = 500_000   # below this an exact flat index is fast enough


@dataclass(frozen=True)
class Hit:
    key: EmbeddingKey
    score: float        # cosine similarity

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.key.kind, "media_id": self.key.media_id, "frame": self.key.frame,
                "box_id": self.key.box_id or None, "similarity": round(self.score, 5)}


class EmbeddingIndex:
    def __init__(self, keys: Sequence[EmbeddingKey], vectors: np.ndarray,
                 use_faiss: bool | None = None):
        self.keys = list(keys)
        self.vectors = np.ascontiguousarray(vectors, np.float32)
        self._faiss = None
        if use_faiss is not False and len(self.keys):
            try:
                import faiss  # optional accelerator
            except ImportError:
                if use_faiss:
                    raise
            else:
                d = self.vectors.shape[1]
                if len(self.keys) >= HNSW_FROM:
                    index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
                else:
                    index = faiss.IndexFlatIP(d)
                index.add(self.vectors)
                self._faiss = index

    @classmethod
    def from_store(cls, project, run_id: int, kinds: Iterable[str] | None = None,
                   **kw) -> "EmbeddingIndex":
        keys, vectors = project.embeddings.load(run_id, kinds)
        return cls(keys, vectors, **kw)

    def __len__(self) -> int:
        return len(self.keys)

    def search(self, query: np.ndarray, k: int = 10) -> list[Hit]:
        """The ``k`` most similar items to one unit ``query`` vector, best first."""
        n = len(self.keys)
        k = min(k, n)
        if k <= 0:
            return []
        q = np.ascontiguousarray(query, np.float32).reshape(1, -1)
        if self._faiss is not None:
            scores, idx = self._faiss.search(q, k)
            return [Hit(self.keys[i], float(s)) for s, i in zip(scores[0], idx[0]) if i >= 0]
        scores = self.vectors @ q[0]
        top = np.argpartition(scores, n - k)[n - k:] if k < n else np.arange(n)
        top = top[np.argsort(-scores[top], kind="stable")]
        return [Hit(self.keys[i], float(scores[i])) for i in top]


_BOX = re.compile(r"^box:(\d+)$")


def parse_query(text: str) -> tuple[str, Any]:
    """'box:12' -> ("box", 12); '7' -> ("media", 7); a path -> ("file", Path)."""
    text = text.strip()
    if m := _BOX.match(text):
        return "box", int(m.group(1))
    if text.isdigit() and not Path(text).exists():
        return "media", int(text)
    path = Path(text).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{text}: not an image file, a media id or box:ID")
    return "file", path


def query_vector(project, run_id: int, query: tuple[str, Any], embedder_factory=None,
                 frame: int = 0) -> tuple[np.ndarray, EmbeddingKey | None]:
    """The query's vector: the stored one when the item is embedded, else computed
    (``embedder_factory()`` gives an Embedder; only called when needed)."""
    from app.store.pictures import PictureReader, read_rgb

    kind, value = query
    key = None
    if kind == "box":
        box = project.boxes.get(value)
        key = EmbeddingKey("box", box.media_id, box.frame, box.id)
    elif kind == "media":
        media = project.media.get(value)
        key = (EmbeddingKey("frame", media.id, frame) if media.kind == "video"
               else EmbeddingKey("image", media.id))
    if key is not None:
        stored = project.embeddings.get(run_id, key)
        if stored is not None and (kind != "box" or
                                   project.embeddings.stamps(run_id).get(key) == box.updated_at):
            return stored, key
    if embedder_factory is None:
        raise LookupError(f"{query[0]} {query[1]} is not embedded with run {run_id}")
    embedder = embedder_factory()
    if kind == "file":
        return embedder.embed([read_rgb(value)])[0], None
    with PictureReader(project) as reader:
        pixels = reader.read(key.media_id, key.frame)
    if kind == "box":
        return embedder.embed_crops(pixels, [box.rect])[0], key
    return embedder.embed([pixels])[0], key


class TagClassifier:
    """One-vs-rest logistic regression per tag on frozen image embeddings.

    Trained from the tags already given: for each tag, tagged images are positives
    and images carrying other tags (but not this one) negatives; untagged images are
    unknown, so they never count as negatives. A tag needs a positive and a negative.
    """

    def __init__(self, c: float = 1.0):
        self.c = c
        self.models: dict[int, Any] = {}
        self.skipped: list[int] = []

    def fit(self, vectors: np.ndarray, tag_sets: Sequence[set[int]],
            tag_ids: Iterable[int]) -> "TagClassifier":
        from sklearn.linear_model import LogisticRegression

        labelled = np.array([bool(t) for t in tag_sets])
        x = vectors[labelled]
        sets = [t for t in tag_sets if t]
        for tag in tag_ids:
            y = np.array([tag in t for t in sets])
            if y.all() or not y.any():
                self.skipped.append(tag)
                continue
            self.models[tag] = LogisticRegression(C=self.c, class_weight="balanced",
                                                  max_iter=500).fit(x, y)
        return self

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        """(N, T) probabilities, columns in ``self.tags`` order."""
        if not self.models:
            return np.zeros((len(vectors), 0), np.float32)
        return np.stack([m.predict_proba(vectors)[:, 1] for m in self.models.values()], axis=1)

    @property
    def tags(self) -> list[int]:
        return list(self.models)

    def suggest(self, vector: np.ndarray, threshold: float = 0.5) -> list[tuple[int, float]]:
        probs = self.predict(np.asarray(vector, np.float32).reshape(1, -1))[0]
        out = [(t, float(p)) for t, p in zip(self.tags, probs) if p >= threshold]
        return sorted(out, key=lambda tp: -tp[1])


def image_tag_data(project, run_id: int) -> tuple[list[EmbeddingKey], np.ndarray, list[set[int]]]:
    """Image embeddings of a run with each image's tags."""
    keys, vectors = project.embeddings.load(run_id, ["image"])
    tags: dict[int, set[int]] = {}
    for media_id, tag_id in project.tags.pairs():
        tags.setdefault(media_id, set()).add(tag_id)
    return keys, vectors, [tags.get(k.media_id, set()) for k in keys]


def train_classifier(project, run_id: int) -> TagClassifier:
    keys, vectors, sets = image_tag_data(project, run_id)
    return TagClassifier().fit(vectors, sets, [t.id for t in project.tags.all()]) if keys else TagClassifier()


def classify_untagged(project, run_id: int, threshold: float = 0.5
                      ) -> tuple[TagClassifier, dict[int, list[tuple[int, float]]]]:
    """Train on the tagged images, suggest tags for every untagged one."""
    keys, vectors, sets = image_tag_data(project, run_id)
    clf = TagClassifier()
    if keys:
        clf.fit(vectors, sets, [t.id for t in project.tags.all()])
    untagged = [i for i, s in enumerate(sets) if not s]
    out: dict[int, list[tuple[int, float]]] = {}
    if clf.models and untagged:
        probs = clf.predict(vectors[untagged])
        for row, i in zip(probs, untagged):
            out[keys[i].media_id] = sorted(((t, float(p)) for t, p in zip(clf.tags, row)
                                            if p >= threshold), key=lambda tp: -tp[1])
    return clf, out
