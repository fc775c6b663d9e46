"""Visual search benchmark: top-10 exact cosine search over 100,000 stored vectors
(128-d and 256-d), plus loading them from the project's SQLite store.
Run on demand: ``python tests/benchmarks/bench_embedding_search.py [N]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from app.search.index import EmbeddingIndex  # noqa: E402
from app.store.models import EmbeddingKey  # noqa: E402
from app.store.project import Project  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


def unit(rng, n, d):
    v = rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def main() -> None:
    rng = np.random.default_rng(0)
    for d in (128, 256):
        vectors = unit(rng, N, d)
        keys = [EmbeddingKey("image", i + 1) for i in range(N)]
        index = EmbeddingIndex(keys, vectors, use_faiss=False)
        queries = unit(rng, 200, d)
        index.search(queries[0], 10)  # warm-up
        times = []
        for q in queries:
            t = time.perf_counter()
            index.search(q, 10)
            times.append((time.perf_counter() - t) * 1000)
        t = np.asarray(times)
        print(f"exact top-10 over {N:,} x {d}: median {np.median(t):.2f} ms, "
              f"p95 {np.percentile(t, 95):.2f} ms, max {t.max():.2f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "proj")
        with project.transaction():
            media = [project.media.add_row(_info(i), f"img_{i}.jpg", f"img_{i}.jpg")
                     for i in range(N)]
        run = project.runs.add(name="bench", task="embedder", template="embed_mobilenet_v2",
                              run_dir="")
        vectors = unit(rng, N, 128)
        t = time.perf_counter()
        project.embeddings.put(run, [(EmbeddingKey("image", m), "", v)
                                     for m, v in zip(media, vectors)])
        print(f"store {N:,} x 128 vectors: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        index = EmbeddingIndex.from_store(project, run)
        print(f"load {N:,} x 128 vectors and build the index: {time.perf_counter() - t:.2f} s")
        project.close()


def _info(i: int):
    from app.store.probe import MediaInfo

    return MediaInfo(path=Path(f"img_{i}.jpg"), kind="image", width=320, height=240, fps=None, frame_count=None,
                     content_hash=f"h{i}", file_size=1)


if __name__ == "__main__":
    main()
