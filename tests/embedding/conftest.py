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
    from training.embedding.run import run_embedder_train
    from training.events import Emitter
    from training.run import TrainConfig

    sink = io.StringIO()
    cfg = TrainConfig(coco, coco.parent / "images", template, run_dir,
                      list(TINY) + list(overrides), progress_interval_s=0, device="cpu", **kw)
    rc = run_embedder_train(cfg, Emitter(sink))
    return rc, [json.loads(line) for line in sink.getvalue().splitlines()]


@pytest.fixture(scope="session")
def classes_coco(tmp_path_factory) -> Path:
    return make_classes_coco(tmp_path_factory.mktemp("classes"))


@pytest.fixture(scope="session")
def trained_embedder(classes_coco, tmp_path_factory) -> Path:
    """Run folder of one tiny MobileNetV2 embedder run (two steps)."""
    run_dir = tmp_path_factory.mktemp("emb_run")
    rc, events = train_events(classes_coco, "embed_mobilenet_v2", run_dir)
    assert rc == 0, events[-1]
    return run_dir
