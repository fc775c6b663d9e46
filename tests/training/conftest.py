"""A tiny generated COCO set: 64 px noise images with coloured rectangles."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CLASSES = ["red", "green"]
COLOURS = {1: (230, 30, 30), 2: (30, 200, 30)}


def make_coco(root: Path, n: int = 12, size: int = 64, seed: int = 0) -> Path:
    """``n`` images; every fourth one has no boxes (a negative); some are portrait."""
    rng = np.random.default_rng(seed)
    images, anns = [], []
    (root / "img").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        w, h = (size, size + 16) if i % 3 == 0 else (size + 16, size)
        pixels = rng.integers(0, 80, (h, w, 3), dtype=np.uint8)
        n_boxes = 0 if i % 4 == 3 else int(rng.integers(1, 3))
        for _ in range(n_boxes):
            cat = int(rng.integers(1, 3))
            bw, bh = int(rng.integers(14, 30)), int(rng.integers(14, 30))
            x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
            pixels[y:y + bh, x:x + bw] = COLOURS[cat]
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": cat,
                         "bbox": [x, y, bw, bh], "area": bw * bh, "iscrowd": 0})
        name = f"img/{i:03d}.png"
        Image.fromarray(pixels).save(root / name)
        images.append({"id": i + 1, "file_name": name, "width": w, "height": h})
    doc = {"images": images, "annotations": anns,
           "categories": [{"id": k + 1, "name": c} for k, c in enumerate(CLASSES)]}
    path = root / "coco.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture(scope="session")
def tiny_coco(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tiny_coco")
    return make_coco(root), root


# Small, fast, download-free settings for every template in tests.
TINY = ["epochs=1", "batch_size=2", "min_size=64", "max_size=96", "pretrained=none",
        "workers=0", "warmup_iters=2", "val_fraction=0.25"]


@pytest.fixture(autouse=True, scope="session")
def _offline_torch_home(tmp_path_factory):
    """An empty hub cache and a download that fails: no test may fetch weights."""
    import os

    home = tmp_path_factory.mktemp("torch_home")
    old = os.environ.get("TORCH_HOME")
    os.environ["TORCH_HOME"] = str(home)
    import torch.hub

    def refuse(url, *args, **kwargs):
        raise AssertionError(f"a test tried to download {url}")

    saved = torch.hub.download_url_to_file
    torch.hub.download_url_to_file = refuse
    yield home
    torch.hub.download_url_to_file = saved
    if old is None:
        os.environ.pop("TORCH_HOME", None)
    else:
        os.environ["TORCH_HOME"] = old


def run_events(coco: Path, root: Path, template: str, run_dir: Path, overrides=(), **kw):
    """Train in-process; returns (exit code, list of emitted events)."""
    import io
    import json

    from training.events import Emitter
    from training.run import TrainConfig, run_train

    sink = io.StringIO()
    rc = run_train(TrainConfig(coco, root, template, run_dir, list(TINY) + list(overrides),
                               progress_interval_s=0, **kw), Emitter(sink))
    return rc, [json.loads(line) for line in sink.getvalue().splitlines()]


@pytest.fixture(scope="session")
def small_coco(tmp_path_factory) -> tuple[Path, Path]:
    """Six images: with val_fraction=0.25, 4 train (2 steps of 2) and 2 val."""
    root = tmp_path_factory.mktemp("small_coco")
    return make_coco(root, n=6, seed=1), root


@pytest.fixture(scope="session")
def trained_run(small_coco, tmp_path_factory):
    """Two uninterrupted epochs of the smallest template; shared by several tests."""
    run_dir = tmp_path_factory.mktemp("run_a")
    rc, events = run_events(*small_coco, "fasterrcnn_mobilenet_v3_large_320_fpn", run_dir,
                            ["epochs=2"])
    assert rc == 0, events[-1]
    return run_dir, events
