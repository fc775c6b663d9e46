"""Prediction and embedding through Ray Data on a real local cluster equal what this
machine computes (images, video frames and box crops), are stored in the same
tables, and report progress."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from app.shell.cli import main
from tests.cluster.helpers import model_runs

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def media_project(tmp_path):
    """Images and a clip with labelled frames: both kinds of picture travel."""
    from app.shell.demo import make_demo

    p = make_demo(tmp_path / "proj", n_images=4, video=True)
    yield p
    p.close()


def _boxes(project, run_id):
    return {key: [(b.class_id, b.x1, b.y1, b.x2, b.y2, b.score)
                  for b in project.predictions.boxes(run_id, *key)]
            for key in project.predictions.frames(run_id)}


def test_predictions_through_ray_data_equal_the_local_ones(media_project, ray_head, trainer_env,
                                                           capsys):
    from app.predictions.core import all_items, load_model, predict_items

    project = media_project
    remote, local = model_runs(project, "detector", "ssdlite320_mobilenet_v3_large", [])
    items = all_items(project)
    assert any(f > 0 for _, f in items)            # video frames are among them
    predict_items(project, local, load_model(project, local), items)
    assert main(["predict", str(project.root), "--run", str(remote), "--compute",
                 ray_head.address, "--workers", "2"]) == 0
    out = capsys.readouterr()
    assert f"predicted {len(items)}/{len(items)}" in out.err
    assert f"{len(items)} frame(s) predicted" in out.out
    here, there = _boxes(project, local), _boxes(project, remote)
    assert sorted(here) == sorted(there) == sorted(items)
    assert sum(len(v) for v in here.values()) > 0
    for key in here:
        assert len(here[key]) == len(there[key]), key
        a, b = np.array(here[key], float), np.array(there[key], float)
        if len(a):
            assert (a[:, 0] == b[:, 0]).all()
            np.testing.assert_allclose(a[:, 1:], b[:, 1:], rtol=1e-4, atol=1e-3)
    # Cached: a second run on the cluster has nothing left to do and submits nothing.
    assert main(["predict", str(project.root), "--run", str(remote), "--compute",
                 ray_head.address]) == 0
    assert "0 frame(s) predicted" in capsys.readouterr().out


def test_embeddings_through_ray_data_equal_the_local_ones(media_project, ray_head, trainer_env):
    from app.search.cluster import embed_on_cluster
    from app.search.embeddings import embed_project

    project = media_project
    remote, local = model_runs(project, "embedder", "embed_resnet18",
                                ["image_size=64", "embedding_size=16"])
    here = embed_project(project, local, batch_size=8)
    steps = []
    there = embed_on_cluster(project, remote, ray_head.address, workers=2, batch_size=8,
                             progress=lambda done, total: steps.append((done, total)))
    assert here["embedded"] == there["embedded"] > 0 and there["failed"] == 0
    assert steps[-1] == (there["embedded"], there["embedded"])
    kinds = set()
    a, b = project.embeddings.stamps(local), project.embeddings.stamps(remote)
    assert set(a) == set(b)
    va, vb = _vectors(project, local), _vectors(project, remote)
    for key in a:
        kinds.add(key.kind)
        np.testing.assert_allclose(va[key], vb[key], atol=1e-5)
        assert a[key] == b[key]
    assert kinds == {"image", "frame", "box"}
    again = embed_on_cluster(project, remote, ray_head.address)
    assert again["embedded"] == 0 and again["kept"] == there["embedded"]


def _vectors(project, run_id) -> dict:
    keys, vectors = project.embeddings.load(run_id)
    return dict(zip(keys, vectors))
