"""Fixtures for embedder tests: generated classes, one tiny trained run shared by the
inference/CLI tests, no weights download, one compute thread (shared small CPUs:
two threads fighting other processes made a step 30x slower)."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from tests.embedding.helpers import TINY, make_classes_coco


@pytest.fixture(autouse=True, scope="session")
def _one_thread_offline(tmp_path_factory):
    import torch
    import torch.hub

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    old = os.environ.get("TORCH_HOME")
    os.environ["TORCH_HOME"] = str(tmp_path_factory.mktemp("torch_home"))

    def refuse(url, *args, **kwargs):
        raise AssertionError(f"a test tried to download {url}")

    saved, torch.hub.download_url_to_file = torch.hub.download_url_to_file, refuse
    yield
    torch.hub.download_url_to_file = saved
    torch.set_num_threads(threads)
    if old is None:
        os.environ.pop("TORCH_HOME", None)
    else:
        os.environ["TORCH_HOME"] = old


def train_events(coco: Path, template: str, run_dir: Path, overrides=(), **kw):
    """Train in-process; returns (exit code, emitted events)."""
    from training.events import Emitter
    from training.run import TrainConfig, run_train

    sink = io.StringIO()
    cfg = TrainConfig(coco, coco.parent / "images", template, run_dir,
                      list(TINY) + list(overrides), progress_interval_s=0, device="cpu", **kw)
    rc = run_train(cfg, Emitter(sink))
    return rc, [json.loads(line) for line in sink.getvalue().splitlines()]


@pytest.fixture(scope="session")
def classes_coco(tmp_path_factory) -> Path:
    return make_classes_coco(tmp_path_factory.mktemp("classes"))


@pytest.fixture(scope="session")
def trained_embedder(classes_coco, tmp_path_factory) -> Path:
    """Run folder of one tiny ResNet-18 embedder run (two steps; a random MobileNetV2
    gives every picture the same vector this early, as its BatchNorm statistics are
    still untrained)."""
    run_dir = tmp_path_factory.mktemp("emb_run")
    rc, events = train_events(classes_coco, "embed_resnet18", run_dir)
    assert rc == 0, events[-1]
    return run_dir


def make_project(folder: Path, run_dir: Path | None, per_class: int = 4, seed: int = 3,
                 untagged: int = 3):
    """A project of generated shape images: ``per_class`` tagged images per class, each
    with one box of its class, plus ``untagged`` untagged ones; an embedder run record
    pointing at ``run_dir`` (none when it is None).
    Returns (project, run id, {media id: class index})."""
    import cv2
    import numpy as np

    from app.store.project import Project
    from tests.embedding.helpers import CLASSES, shape_image

    rng = np.random.default_rng(seed)
    media_dir = folder / "media"
    media_dir.mkdir(parents=True)
    plan = [c for c in range(len(CLASSES)) for _ in range(per_class)]
    plan += [i % len(CLASSES) for i in range(untagged)]
    boxes = []
    for i, cls in enumerate(plan):
        img, (x, y, w, h) = shape_image(cls, rng)
        cv2.imwrite(str(media_dir / f"{i:03d}.png"), img[..., ::-1])
        boxes.append((x, y, x + w, y + h))
    project = Project.create(folder / "proj")
    report = project.media.import_files(sorted(media_dir.glob("*.png")))
    tags = [project.tags.ensure(c) for c in CLASSES]
    classes = [project.classes.ensure(c) for c in CLASSES]
    truth = {}
    for i, (media_id, cls) in enumerate(zip(report.added, plan)):
        truth[media_id] = cls
        project.boxes.add_one(media_id, classes[cls], *boxes[i])
        if i < per_class * len(CLASSES):
            project.tags.set(media_id, tags[cls], True)
    run_id = None if run_dir is None else project.runs.add(
        name="emb", task="embedder", template="embed_resnet18", run_dir=str(run_dir))
    return project, run_id, truth
