"""Embedder export: TorchScript and ONNX give the vectors ``Embedder`` gives, for any
batch size, from ``python -m training export``."""
from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch

from tests.embedding.helpers import shape_image

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(5)
    return [shape_image(c, rng)[0] for c in (0, 1, 2)]   # 64 px = the run's image_size


@pytest.fixture(scope="module")
def reference(trained_embedder, images):
    from training.embedding.inference import Embedder

    vectors = Embedder(trained_embedder / "best.pt").embed(images)
    assert not np.allclose(vectors[0], vectors[1], atol=1e-3)  # a test that can fail
    return vectors


def _batch(images) -> torch.Tensor:
    """What a user of the exported model does: RGB, resized, scaled to [0, 1], NCHW."""
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255


def _cli(*argv) -> tuple[int, list[dict]]:
    from training.cli import main

    out = io.StringIO()
    with redirect_stdout(out):
        rc = main([str(a) for a in argv])
    return rc, [json.loads(line) for line in out.getvalue().splitlines()]


def test_torchscript_matches_embedder(trained_embedder, images, reference, tmp_path):
    rc, lines = _cli("export", "--checkpoint", trained_embedder / "best.pt",
                     "--format", "torchscript", "--out", tmp_path / "emb.pt")
    assert rc == 0
    assert lines == [{"exported": str(tmp_path / "emb.pt"), "format": "torchscript",
                      "kind": "embedder"}]
    extra = {"kestrel.json": ""}
    scripted = torch.jit.load(str(tmp_path / "emb.pt"), _extra_files=extra)
    meta = json.loads(extra["kestrel.json"])
    assert (meta["kind"], meta["image_size"], meta["embedding_size"]) == ("embedder", 64, 16)
    assert meta["class_names"] == ["circle", "square", "triangle"]
    for n in (2, 3):
        with torch.no_grad():
            got = scripted(_batch(images[:n])).numpy()
        assert got.shape == (n, 16)
        np.testing.assert_allclose(got, reference[:n], atol=1e-4)


def test_onnx_matches_embedder_with_a_dynamic_batch(trained_embedder, images, reference,
                                                    tmp_path):
    ort = pytest.importorskip("onnxruntime")
    rc, lines = _cli("export", "--checkpoint", trained_embedder / "best.pt",
                     "--format", "onnx", "--out", tmp_path / "emb.onnx")
    assert rc == 0 and lines[0]["kind"] == "embedder"
    session = ort.InferenceSession(str(tmp_path / "emb.onnx"),
                                   providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["images"]
    assert session.get_inputs()[0].shape[1:] == [3, 64, 64]
    for n in (2, 3, 1):       # traced with 2: other sizes prove the batch axis is free
        got = session.run(None, {"images": _batch(images[:n]).numpy()})[0]
        assert got.shape == (n, 16)
        np.testing.assert_allclose(got, reference[:n], atol=1e-4)
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)


def test_mobilenet_v2_embedder_exports(tmp_path, images):
    """The default CPU template scripts and exports too (random weights, no training)."""
    ort = pytest.importorskip("onnxruntime")
    from training import hparams as hpmod
    from training.checkpoint import save_checkpoint
    from training.embedding.inference import Embedder
    from training.embedding.checkpoint import FORMAT
    from training.export import export_onnx, export_torchscript
    from training.templates import get_template

    spec = get_template("embed_mobilenet_v2")
    hp = hpmod.parse_overrides(spec.hparams(), ["image_size=64", "embedding_size=8",
                                                "pretrained=none"])
    torch.manual_seed(0)
    model = spec.build(num_classes=3, hparams=hp)
    ckpt = save_checkpoint(tmp_path / "best.pt", {
        "format": FORMAT, "template": spec.name, "hparams": hpmod.to_dict(hp),
        "class_names": ["a", "b", "c"], "model": model.state_dict()})
    reference = Embedder(ckpt).embed(images)
    scripted = torch.jit.load(str(export_torchscript(ckpt, tmp_path / "m.pt")))
    with torch.no_grad():
        np.testing.assert_allclose(scripted(_batch(images)).numpy(), reference, atol=1e-4)
    session = ort.InferenceSession(str(export_onnx(ckpt, tmp_path / "m.onnx")),
                                   providers=["CPUExecutionProvider"])
    got = session.run(None, {"images": _batch(images).numpy()})[0]
    np.testing.assert_allclose(got, reference, atol=1e-4)


def test_export_refuses_what_is_no_kestrel_checkpoint(tmp_path, capsys):
    torch.save({"format": "something.else"}, tmp_path / "x.pt")
    rc, _ = _cli("export", "--checkpoint", tmp_path / "x.pt", "--format", "onnx",
                 "--out", tmp_path / "x.onnx")
    assert rc == 2
    assert "not a Kestrel detector or embedder checkpoint" in capsys.readouterr().err
