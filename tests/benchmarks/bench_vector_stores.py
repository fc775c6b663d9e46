"""Vector stores at 1,000,000 x 128: top-10 latency with and without a filter.

Stores: the embedded store's exact search (numpy), the embedded store with faiss
HNSW (when faiss is importable: ``pip install faiss-cpu``), and Qdrant's local mode
in a folder (as ``qdrant://local`` runs it). The vectors and payloads are made once
per run and every store gets the same ones. Also: recall@10 of HNSW against exact,
the time to fill each store, and how long the calling thread's neighbour (the GUI
thread in the app) is kept waiting while exact searches run on a worker thread.

Run on demand: ``python tests/benchmarks/bench_vector_stores.py [N] [--skip faiss,qdrant]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from app.search.filters import Condition, Where  # noqa: E402
from app.search.stores import EmbeddedStore, Point  # noqa: E402
from app.store.models import EmbeddingKey  # noqa: E402

D = 128
FILTERS = {
    "no filter": Where(),
    "split=val (25%)": Where((Condition("split", ("val",)),)),
    "tag=3 (10%)": Where((Condition("tags", (3,)),)),
    "tag=3, split=val, unlabelled (1%)": Where((Condition("tags", (3,)),
                                                Condition("split", ("val",)),
                                                Condition("labelled", (True,), negate=True))),
}


def data(n: int, seed: int = 0):
    """Random unit vectors and payloads: split uniform over 4, tag t with p 0.1 each
    of 1..5, 40% unlabelled; built once, in chunks (float64 normals are 1 GB)."""
    rng = np.random.default_rng(seed)
    vectors = np.empty((n, D), np.float32)
    for i in range(0, n, 100_000):
        v = rng.standard_normal((min(100_000, n - i), D), dtype=np.float32)
        vectors[i:i + len(v)] = v / np.linalg.norm(v, axis=1, keepdims=True)
    splits = rng.integers(0, 4, n)
    tags = rng.random((n, 5)) < 0.1
    labelled = rng.random(n) >= 0.4
    names = ("train", "val", "test", "none")
    points = []
    for i in range(n):
        points.append(Point(EmbeddingKey("image", i + 1), vectors[i], {
            "kind": "image", "media": i + 1, "frame": 0, "box": 0, "media_kind": "image",
            "split": names[splits[i]], "tags": [int(t) + 1 for t in np.flatnonzero(tags[i])],
            "classes": [], "labelled": bool(labelled[i]), "run": 1, "stamp": ""}))
    return vectors, points


def timed(store, queries, where, repeat_first=True):
    if repeat_first:
        store.search(queries[0], 10, where)                       # warm-up
    times, results = [], []
    for q in queries:
        t, c = time.perf_counter(), time.process_time()
        results.append(store.search(q, 10, where))
        times.append(((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000))
    return times, results


def line(name: str, where_name: str, times: list[tuple[float, float]], extra: str = "") -> None:
    """Wall-clock median and p95, and the median CPU time of this process (all its
    threads): on a machine shared with other jobs, the wall clock includes waiting
    for a core."""
    wall = [w for w, _ in times]
    p95 = np.percentile(wall, 95) if len(wall) > 1 else wall[0]
    cpu = statistics.median(c for _, c in times)
    print(f"| {name} | {where_name} | {statistics.median(wall):.1f} ms | {p95:.1f} ms "
          f"| {cpu:.1f} ms | {len(times)} |{extra}", flush=True)


def fill(store, points, chunk=50_000) -> float:
    t = time.perf_counter()
    for i in range(0, len(points), chunk):
        store.upsert(points[i:i + chunk])
    return time.perf_counter() - t


def ticks(seconds: float) -> list[float]:
    """How late each 5 ms tick of this thread wakes, in ms."""
    late, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        time.sleep(0.005)
        late.append((time.perf_counter() - t - 0.005) * 1000)
    return late


def stall_while_searching(store, queries, seconds: float = 5.0):
    """Lateness of this thread's ticks while another thread searches, and before."""
    idle = ticks(seconds)
    stop = threading.Event()
    done = [0]

    def work():
        while not stop.is_set():
            store.search(queries[done[0] % len(queries)], 10)
            done[0] += 1

    thread = threading.Thread(target=work)
    thread.start()
    busy = ticks(seconds)
    stop.set()
    thread.join()
    return idle, busy, done[0]


def bench_sync(n: int, skip: set[str]) -> None:
    """A project of ``n`` embedded images: the first sync into the embedded store (what
    the first search of a session waits for: in one pass, and a chunk of media at a
    time as other stores are synced), then one after tagging 100 images, then one with
    nothing changed; and the same into Qdrant's local mode."""
    from app.search.stores import open_store, parse_spec
    from app.search.sync import sync
    from app.store.probe import MediaInfo
    from app.store.project import Project

    rng = np.random.default_rng(2)
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "proj")
        with project.transaction():
            media = [project.media.add_row(MediaInfo(Path(f"{i}.jpg"), "image", 64, 48, f"h{i}",
                                                     1), f"{i}.jpg", f"{i}.jpg") for i in range(n)]
        run = project.runs.add(name="b", task="embedder", template="embed_resnet18", run_dir="")
        v = rng.standard_normal((n, D), dtype=np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        t = time.perf_counter()
        project.embeddings.put(run, [(EmbeddingKey("image", m), "", x) for m, x in zip(media, v)])
        print(f"store {n:,} x {D} vectors in SQLite (change log triggers on): "
              f"{time.perf_counter() - t:.2f} s")
        tag = project.tags.ensure("bees")
        print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")
        specs = [("embedded", True), ("embedded", False)]
        specs += [] if "qdrant" in skip else [("qdrant://local", False)]
        for spec, bulk in specs:
            store = open_store(project, run, parse_spec(spec))
            store.bulk_load = bulk
            if spec == "embedded":
                spec += ", in one pass" if bulk else ", a chunk of media at a time"
            t = time.perf_counter()
            sync(project, run, store)
            first = time.perf_counter() - t
            with project.transaction():
                for m in media[::n // 100][:100]:
                    project.tags.set(m, tag, True)
            t = time.perf_counter()
            report = sync(project, run, store)
            after = time.perf_counter() - t
            t = time.perf_counter()
            sync(project, run, store)
            idle = time.perf_counter() - t
            print(f"sync {n:,} items into {spec}: first {first:.2f} s; after tagging 100 "
                  f"images {after * 1000:.0f} ms ({report.payloads} payloads sent); nothing "
                  f"changed {idle * 1000:.1f} ms")
            store.close()
            with project.transaction():
                for m in media[::n // 100][:100]:
                    project.tags.set(m, tag, False)
        project.close()


def bench_faiss(faiss, points, queries, truth) -> None:
    """faiss's flat index (exact), then an HNSW graph (M 32) at several efSearch."""
    flat = EmbeddedStore(use_faiss=True)
    fill(flat, points)
    times, results = timed(flat, queries, None)
    same = np.mean([[h.key for h in a] == [h.key for h in b]
                    for a, b in zip(results, truth["no filter"])])
    line(f"embedded, faiss {faiss.__version__} IndexFlatIP", "no filter", times,
         f" same top-10 as numpy: {same:.0%}")
    del flat
    gc.collect()
    hnsw = EmbeddedStore(use_faiss=True, hnsw_from=1)
    fill(hnsw, points)
    t = time.perf_counter()
    hnsw.search(queries[0], 10)                        # builds the graph
    print(f"faiss IndexHNSWFlat (M 32, efConstruction 40) built in "
          f"{time.perf_counter() - t:.1f} s", flush=True)
    for ef in (64, 256, 1024):
        hnsw._faiss.hnsw.efSearch = ef
        times, results = timed(hnsw, queries, None)
        recall = np.mean([len({h.key for h in a} & {h.key for h in b}) / 10
                          for a, b in zip(results, truth["no filter"])])
        line(f"embedded, faiss HNSW efSearch {ef}", "no filter", times,
             f" recall@10 {recall:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--skip", default="", help="comma list of faiss, qdrant")
    ap.add_argument("--sync", type=int, metavar="N",
                    help="only: sync N embedded images of a project into each store")
    ap.add_argument("--qdrant-filtered", type=int, default=3,
                    help="queries per filter for Qdrant local mode (seconds each at 1M)")
    args = ap.parse_args()
    skip = set(args.skip.split(","))
    if args.sync:
        return bench_sync(args.sync, skip)
    t = time.perf_counter()
    vectors, points = data(args.n)
    print(f"{args.n:,} x {D} unit vectors and payloads made in {time.perf_counter() - t:.1f} s")
    queries = list(np.random.default_rng(1).standard_normal((args.queries, D), dtype=np.float32))
    queries = [q / np.linalg.norm(q) for q in queries]
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")
    print("| store | filter | median | p95 | CPU median | queries |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")

    exact = EmbeddedStore(use_faiss=False)
    built = fill(exact, points)
    truth = {}
    for name, where in FILTERS.items():
        times, results = timed(exact, queries, where)
        truth[name] = results
        line("embedded, exact (numpy)", name, times, f" matches {exact.count(where):,}")
    print(f"embedded store filled in {built:.1f} s")
    idle, busy, n = stall_while_searching(exact, queries)
    print(f"5 ms ticks of the calling thread, late by (median / p99 / max): idle "
          f"{np.median(idle):.2f} / {np.percentile(idle, 99):.1f} / {max(idle):.1f} ms; while a "
          f"worker thread ran {n} exact searches {np.median(busy):.2f} / "
          f"{np.percentile(busy, 99):.1f} / {max(busy):.1f} ms")

    if "faiss" not in skip:
        try:
            import faiss
        except ImportError:
            print("faiss not installed: skipped")
        else:
            bench_faiss(faiss, points, queries, truth)
    del exact
    gc.collect()

    if "qdrant" not in skip:
        from app.search.stores.qdrant import QdrantStore

        with tempfile.TemporaryDirectory() as tmp:
            store = QdrantStore("bench", path=Path(tmp) / "qdrant")
            print(f"Qdrant local mode filled in {fill(store, points, 10_000):.1f} s", flush=True)
            for name, where in FILTERS.items():
                few = queries[:args.qdrant_filtered] if where else queries[:20]
                times, results = timed(store, few, where, repeat_first=False)
                same = np.mean([[h.key for h in a] == [h.key for h in b]
                                for a, b in zip(results, truth[name])])
                line("Qdrant local mode", name, times, f" same top-10 as exact: {same:.0%}")
            store.close()


if __name__ == "__main__":
    main()
