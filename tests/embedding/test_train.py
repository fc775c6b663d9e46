"""Embedder templates train through the shared trainer: events, metrics,
checkpoints, cancel and resume."""
from __future__ import annotations

import pytest

from tests.embedding.conftest import train_events
from tests.embedding.helpers import make_classes_coco
from training.events import parse_event
from training.templates import get_template, list_templates

SMALL = ["embed_mobilenet_v2", "embed_resnet18", "embed_efficientnet_b0"]
BIG = ["embed_resnet50", "embed_convnext_tiny", "embed_vit_b_16"]


def test_registry_lists_embedders_with_described_hparams():
    names = {s.name for s in list_templates("embedder")}
    assert set(SMALL + BIG) <= names
    fields = {f["name"]: f for f in get_template("embed_resnet18").describe()["hparams"]}
    for key in ("image_size", "embedding_size", "margin", "scale", "batch_size",
                "samples_per_class", "epochs", "lr", "frozen_stages", "amp", "seed",
                "val_fraction", "pretrained", "source", "crop_padding", "loss"):
        assert fields[key]["help"], key
    assert set(fields["loss"]["choices"]) == {"arcface", "proxy_anchor", "multi_similarity",
                                              "supcon"}
    assert fields["pretrained"]["or_file"]


@pytest.mark.slow
@pytest.mark.parametrize("template", SMALL)
def test_two_iterations_per_small_template(classes_coco, tmp_path, template):
    rc, events = train_events(classes_coco, template, tmp_path)
    assert rc == 0, events[-1]
    for e in events:
        parse_event(__import__("json").dumps(e))
    started = events[0]
    assert started["event"] == "started" and started["task"] == "embedder"
    assert started["class_names"] == ["circle", "square", "triangle"]
    assert started["excluded_classes"] == {"lonely": 1}   # a single example: left out
    assert sum(e["event"] == "progress" for e in events) == 2
    metrics = [e for e in events if e["event"] == "metrics"]
    assert len(metrics) == 1 and metrics[0]["map"] is None
    for key in ("precision_at_1", "r_precision", "map_at_r"):
        assert 0.0 <= metrics[0][key] <= 1.0
    assert events[-1]["event"] == "finished"
    assert (tmp_path / "last.pt").is_file() and (tmp_path / "best.pt").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["proxy_anchor", "multi_similarity", "supcon"])
def test_other_losses_and_box_source(classes_coco, tmp_path, loss):
    rc, events = train_events(classes_coco, "embed_resnet18", tmp_path,
                              [f"loss={loss}", "source=boxes", "crop_padding=0.2",
                               "frozen_stages=2", "val_fraction=0"])
    assert rc == 0, events[-1]
    assert events[0]["excluded_classes"] == {}      # boxes: three classes, all kept
    assert not [e for e in events if e["event"] == "metrics"]  # no validation split


@pytest.mark.parametrize("template", BIG)
def test_big_templates_build_and_forward_tiny(template):
    import torch

    from training.hparams import parse_overrides

    spec = get_template(template)
    hp = parse_overrides(spec.hparams(), ["pretrained=none", "image_size=32",
                                          "embedding_size=8"])
    model = spec.build(num_classes=3, hparams=hp).eval()
    with torch.inference_mode():
        out = model(torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)))
    assert out.shape == (1, 8)
    assert torch.allclose(out.norm(dim=1), torch.ones(1), atol=1e-4)


def test_metrics_identical_images_give_precision_one():
    import numpy as np

    from training.embedding.metrics import retrieval_metrics

    rng = np.random.default_rng(0)
    base = rng.normal(size=(4, 16)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    emb, labels = np.repeat(base, 2, axis=0), np.repeat(np.arange(4), 2)
    m = retrieval_metrics(emb, labels, class_names=list("abcd"))
    assert m["precision_at_1"] == m["r_precision"] == m["map_at_r"] == 1.0
    assert m["per_class"] == {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}


@pytest.mark.slow
def test_cancel_then_resume_finishes(classes_coco, tmp_path):
    from training.trainer import Hook

    class StopAfterFirstStep(Hook):
        def after_step(self, trainer, images):
            trainer.request_stop("SIGTERM")

    rc, events = train_events(classes_coco, "embed_mobilenet_v2", tmp_path,
                              ["epochs=2", "val_fraction=0"], extra_hooks=[StopAfterFirstStep()])
    assert rc == 0 and events[-1]["event"] == "cancelled"
    assert (events[-1]["epoch"], events[-1]["step"]) == (0, 1)
    rc, events = train_events(classes_coco, "embed_mobilenet_v2", tmp_path,
                              ["epochs=2", "val_fraction=0"], resume=True)
    assert rc == 0, events[-1]
    assert events[0]["resumed_from"].endswith("last.pt")
    assert sum(e["event"] == "progress" for e in events) == 5   # 3 steps an epoch, 1 done
    assert events[-1]["event"] == "finished" and events[-1]["epoch"] == 2


def test_embedder_checkpoint_refuses_pickles(tmp_path):
    import torch

    from training.checkpoint import CheckpointError
    from training.embedding.inference import Embedder

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = tmp_path / "evil.pt"
    torch.save({"format": "kestrel.embedder", "x": Evil()}, bad, pickle_protocol=2)
    with pytest.raises(CheckpointError, match="refused"):
        Embedder(bad)
    detector = tmp_path / "det.pt"
    torch.save({"format": "kestrel.detector"}, detector)
    with pytest.raises(CheckpointError, match="not a Kestrel embedder"):
        Embedder(detector)


@pytest.mark.slow
def test_the_random_start_choice_learns_from_random_weights(tmp_path):
    """``choose`` falls back to ResNet-18 when no pretrained file is here: from random
    weights it separates the generated classes within two epochs (MobileNetV2 stays
    near chance for eight or more)."""
    from training.choice import RANDOM_START

    coco = make_classes_coco(tmp_path / "data", per_class=20, singleton=None)
    rc, events = train_events(coco, RANDOM_START["embedder"], tmp_path / "run", ["epochs=2"])
    assert rc == 0, events[-1]
    metrics = [e for e in events if e["event"] == "metrics"]
    assert metrics[-1]["precision_at_1"] >= 0.9
