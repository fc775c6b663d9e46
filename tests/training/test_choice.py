"""The default template: the best one whose weights are here (or downloadable) for
the device, and what every template would start from."""
from __future__ import annotations

import pytest

from training.choice import CPU_TIME_BUDGET_MIN, choose, start_info, weights_rows
from training.templates import get_template
from training.weights import Policy, cache_dir
from training.weights_catalog import file_of

MNV2 = "MobileNet_V2_Weights.IMAGENET1K_V1"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.delenv("KESTREL_ALLOW_DOWNLOAD", raising=False)
    return cache_dir()


def place(home, *refs):
    home.mkdir(parents=True, exist_ok=True)
    for ref in refs:
        (home / file_of(ref)).write_bytes(b"weights")


def test_with_only_the_offline_mobilenet_v2_weights(home):
    place(home, MNV2)
    cpu = choose("detector", "cpu", Policy())
    assert cpu.template == "fasterrcnn_mobilenet_v2"
    assert cpu.overrides == {"time_budget": str(CPU_TIME_BUDGET_MIN)}   # a budget, not epochs
    assert cpu.start.state == "present" and "ImageNet" in cpu.reason
    gpu = choose("detector", "gpu", Policy())
    assert gpu.template == "fasterrcnn_mobilenet_v2" and gpu.overrides == {}
    assert choose("embedder", "cpu", Policy()).template == "embed_mobilenet_v2"
    assert choose("embedder", "gpu", Policy()).template == "embed_mobilenet_v2"


def test_coco_weights_or_downloads_rank_first(home):
    place(home, MNV2, "FasterRCNN_MobileNet_V3_Large_FPN_Weights.COCO_V1")
    assert choose("detector", "cpu", Policy()).template == "fasterrcnn_mobilenet_v3_large_fpn"
    online = choose("detector", "gpu", Policy(allow_download=True))
    assert online.template == "fasterrcnn_resnet50_fpn_v2"
    assert online.start.state == "downloadable" and "will be downloaded" in online.reason
    assert choose("embedder", "gpu", Policy(allow_download=True)).template == "embed_convnext_tiny"


def test_a_lower_start_is_chosen_explicitly(home):
    """Only an ImageNet backbone for a COCO-first template: the choice says so."""
    place(home, "MobileNet_V3_Large_Weights.IMAGENET1K_V1")
    choice = choose("detector", "cpu", Policy())
    assert choice.template == "fasterrcnn_mobilenet_v3_large_fpn"
    assert choice.overrides["pretrained"] == "imagenet"


def test_nothing_here_marks_every_start_random(home):
    for name in ("fasterrcnn_mobilenet_v2", "fasterrcnn_resnet50_fpn_v2", "embed_resnet18"):
        info = start_info(get_template(name), None, Policy())
        assert info.random and "RANDOM" in info.note and info.state == "missing"
    choice = choose("detector", "cpu", Policy())
    assert choice.start.random and "no pretrained weights" in choice.reason
    # from random weights the embedder is one that learns from them (not MobileNetV2)
    embedder = choose("embedder", "cpu", Policy())
    assert embedder.template == "embed_resnet18" and embedder.start.random
    assert start_info(get_template("fasterrcnn_mobilenet_v2"), "none", Policy()).random is False
    assert start_info(get_template("fasterrcnn_mobilenet_v2"), "x.pt", Policy()).start == "file"


def test_weights_rows_say_where_each_file_is(home):
    place(home, MNV2)
    rows = {(r["template"], r["start"]): r for r in weights_rows(Policy())}
    mnv2 = rows[("fasterrcnn_mobilenet_v2", "imagenet")]
    assert mnv2["state"] == "present" and mnv2["path"] == str(home / file_of(MNV2))
    assert mnv2["size_mb"] == 0.0          # the size of the file that is there
    coco = rows[("fasterrcnn_resnet50_fpn_v2", "coco")]
    assert coco["state"] == "missing" and coco["size_mb"] == 167.104
    assert coco["url"] == "https://download.pytorch.org/models/" + coco["file"]
    mirrored = weights_rows(Policy(True, "http://mirror.example/m/"))
    assert {r["state"] for r in mirrored if r["weights"] != MNV2} == {"downloadable"}
    assert mirrored[0]["url"].startswith("http://mirror.example/m/")
