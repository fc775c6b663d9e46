"""Small projects with stored vectors for the search tests: no embedder needed (the
vectors are random unit vectors written straight into the embeddings table)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from app.search.filters import Where
from app.search.stores.base import payload_of
from app.store import search_items
from app.store.models import EmbeddingKey
from app.store.probe import MediaInfo
from app.store.project import Project

DIM = 16


def unit(rng, n: int, d: int = DIM) -> np.ndarray:
    v = rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def make_search_project(folder: Path, images: int = 24, seed: int = 0, files: bool = False):
    """Images with splits train/val/test/none in turn; every third one unlabelled, the
    others with one box (class cat or dog) and some tagged bees; one video whose frames
    0 and 3 are embedded, with a dog box on frame 3. Everything embedded with one run
    (its folder holds a stand-in best.pt, enough for the CLI's checks).
    ``files``: real PNG files (for the window), else media rows only.
    Returns (project, run id)."""
    rng = np.random.default_rng(seed)
    project = Project.create(folder / "proj")
    cat, dog = project.classes.ensure("cat"), project.classes.ensure("dog")
    bees, _wasps = project.tags.ensure("bees"), project.tags.ensure("wasps")
    if files:
        import cv2

        media_dir = folder / "media"
        media_dir.mkdir()
        for i in range(images):
            img = np.full((48, 64, 3), rng.integers(0, 255, 3), np.uint8)
            cv2.imwrite(str(media_dir / f"{i:03d}.png"), img)
        ids = project.media.import_files(sorted(media_dir.glob("*.png"))).added
    else:
        with project.transaction():
            ids = [project.media.add_row(MediaInfo(Path(f"{i:03d}.png"), "image", 64, 48,
                                                   f"h{i}", 1), f"{i:03d}.png", f"{i:03d}.png")
                   for i in range(images)]
    with project.transaction():
        video = project.media.add_row(MediaInfo(Path("clip.mp4"), "video", 64, 48, "hv", 1,
                                                fps=10.0, frame_count=8), "clip.mp4", "clip.mp4")
    for i, media_id in enumerate(ids):
        split = ("train", "val", "test", None)[i % 4]
        if split:
            project.media.set_split([media_id], split)
        if i % 3 == 0:
            continue                                  # unlabelled
        project.boxes.add_one(media_id, (cat, dog)[i % 2], 4, 4, 30, 30)
        if i % 2 == 0:
            project.tags.set(media_id, bees, True)
    project.boxes.add_one(video, dog, 2, 2, 20, 20, frame=3)
    run_dir = folder / "run"
    run_dir.mkdir()
    (run_dir / "best.pt").write_bytes(b"stand-in: the tests never load it")
    run_id = project.runs.add(name="emb", task="embedder", template="embed_resnet18",
                              run_dir=str(run_dir))
    project.runs.update(run_id, status="finished")
    keys = [EmbeddingKey("image", m) for m in ids]
    keys += [EmbeddingKey("frame", video, 0), EmbeddingKey("frame", video, 3)]
    stamps = {}
    for box_id, media_id, frame, _rect, updated in project.boxes.embeddable():
        keys.append(EmbeddingKey("box", media_id, frame, box_id))
        stamps[keys[-1]] = updated
    vectors = unit(rng, len(keys))
    project.embeddings.put(run_id, [(k, stamps.get(k, ""), v) for k, v in zip(keys, vectors)])
    return project, run_id


def reference(project, run_id: int, query: np.ndarray, k: int, where: Where | None = None):
    """Brute force over the project itself: the ``k`` best (key, score) that match."""
    keys, vectors = project.embeddings.load(run_id)
    facts = search_items.items(project, run_id, search_items.embedded_media(project, run_id))
    scored = [(float(v @ query), key) for key, v in zip(keys, vectors)
              if key in facts and (not where or where.matches(payload_of(facts[key], run_id)))]
    scored.sort(key=lambda sk: -sk[0])
    return [(key, s) for s, key in scored[:k]]
