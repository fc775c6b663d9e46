"""The command line (a real child process for cancel), Predictor, export, weights."""
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import torch

from training.checkpoint import load_detector_checkpoint
from training.cli import main
from training.events import parse_event

from .conftest import TINY

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_cancels_saves_and_exits_zero(small_coco, tmp_path, sig):
    coco, root = small_coco
    cmd = [sys.executable, "-m", "training", "train", "--coco", str(coco), "--images", str(root),
           "--template", "fasterrcnn_mobilenet_v3_large_320_fpn", "--run-dir", str(tmp_path),
           "--progress-interval", "0", "--device", "cpu"]
    for item in TINY + ["epochs=50"]:
        cmd += ["--set", item]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    events = []
    try:
        for line in proc.stdout:
            events.append(parse_event(line))
            if events[-1]["event"] == "progress":
                proc.send_signal(sig)
                break
        events += [parse_event(line) for line in proc.stdout]
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    last = events[-1]
    assert last["event"] == "cancelled" and last["reason"] == sig.name, last
    state = load_detector_checkpoint(last["checkpoint"])
    assert (state["epoch"], state["step"]) == (last["epoch"], last["step"])
    assert state["epoch"] < 50 and "optimizer" in state and "rng" in state


@pytest.fixture(scope="module")
def checkpoint(trained_run):
    return trained_run[0] / "last.pt"


def test_predictor_batches_frames(checkpoint):
    from training.predictor import Predictor

    p = Predictor(checkpoint, device="cpu", score_threshold=0.0)
    assert p.class_names == ["red", "green"]
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (64, 80, 3), dtype=np.uint8) for _ in range(3)]
    dets = p.predict(frames, batch_size=2)
    assert len(dets) == 3
    for d in dets:
        assert d.boxes.shape == (len(d), 4) and d.boxes.dtype == np.float32
        assert ((d.labels >= 0) & (d.labels < 2)).all()
        assert (np.diff(d.scores) <= 1e-6).all()
    assert len(p(frames[0], score_threshold=1.01)) == 0
    single = p(frames[1])  # default threshold 0.0 here, same as batched
    np.testing.assert_allclose(single.scores, dets[1].scores, rtol=1e-4, atol=1e-5)


def test_torchscript_export_matches_eager(checkpoint, tmp_path):
    from training.export import export_torchscript, load_model

    path = export_torchscript(checkpoint, tmp_path / "model.pt")
    scripted = torch.jit.load(str(path))
    image = torch.rand(3, 64, 80)
    boxes, labels, scores = scripted(image)
    with torch.no_grad():
        ref = load_model(checkpoint)([image])[0]
    torch.testing.assert_close(boxes, ref["boxes"], rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(scores, ref["scores"], rtol=1e-4, atol=1e-4)


def test_onnx_export_matches_pytorch(checkpoint, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from training.export import export_onnx, load_model

    path = export_onnx(checkpoint, tmp_path / "model.onnx", size=64)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    image = torch.rand(3, 64, 80, generator=torch.Generator().manual_seed(0))  # not the
    # tracing size: the axes are dynamic. Boxes may differ by float noise in RoIAlign.
    boxes, labels, scores = session.run(None, {"image": image.numpy()})
    with torch.no_grad():
        ref = load_model(checkpoint)([image])[0]
    np.testing.assert_allclose(boxes, ref["boxes"].numpy(), rtol=1e-3, atol=0.5)
    np.testing.assert_allclose(scores, ref["scores"].numpy(), rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(labels, ref["labels"].numpy())


def _run_cli(*argv):
    out = io.StringIO()
    with redirect_stdout(out):
        rc = main(list(map(str, argv)))
    return rc, [json.loads(line) for line in out.getvalue().splitlines()]


def test_cli_eval_and_predict(checkpoint, small_coco):
    coco, root = small_coco
    rc, lines = _run_cli("eval", "--checkpoint", checkpoint, "--coco", coco, "--images", root,
                         "--device", "cpu")
    assert rc == 0 and parse_event(json.dumps(lines[0]))["event"] == "metrics"
    assert 0.0 <= lines[0]["map50"] <= 1.0
    rc, lines = _run_cli("predict", "--checkpoint", checkpoint, "--score", "0", "--device", "cpu",
                         root / "img")
    assert rc == 0 and len(lines) == 6
    assert set(lines[0]) == {"file", "boxes", "labels", "scores"}
    rc, lines = _run_cli("predict", "--checkpoint", checkpoint, "--score", "0", "--device", "cpu",
                         "--coco", coco, "--images", root)
    assert rc == 0 and len(lines) == 1 and lines[0], lines
    assert set(lines[0][0]) == {"image_id", "category_id", "bbox", "score"}
    assert {r["category_id"] for r in lines[0]} <= {1, 2}


def test_weights_import_checks_the_hash(tmp_path, _offline_torch_home):
    payload = b"not really weights"
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    good = tmp_path / f"tiny-{prefix}.pth"
    good.write_bytes(payload)
    rc, lines = _run_cli("weights", "import", good)
    assert rc == 0
    installed = Path(lines[0]["installed"])
    assert installed.read_bytes() == payload
    assert installed.parent == Path(_offline_torch_home) / "hub" / "checkpoints"
    installed.unlink()
    bad = tmp_path / "tiny-00000000.pth"
    bad.write_bytes(payload)
    assert _run_cli("weights", "import", bad)[0] == 2
    nameless = tmp_path / "tiny.pth"
    nameless.write_bytes(payload)
    assert _run_cli("weights", "import", nameless)[0] == 2


def test_predictor_reduces_large_frames_and_maps_boxes_back(checkpoint):
    """A frame five times the model's input gives the small frame's boxes times five,
    whether the Predictor reduces it or gets it reduced with its original size."""
    import cv2

    from training.predictor import Predictor

    p = Predictor(checkpoint, device="cpu", score_threshold=0.0)
    assert p.input_fit is not None and p.input_fit.margin == 1.0
    small = np.random.default_rng(1).integers(0, 255, (64, 80, 3), dtype=np.uint8)
    big = cv2.resize(small, (400, 320), interpolation=cv2.INTER_NEAREST)  # 5x5 blocks
    assert p.input_fit.size(400, 320) == (80, 64)
    ref, whole, given = p.predict([small, big, small], sizes=[None, None, (400, 320)])
    assert len(ref) > 0
    np.testing.assert_allclose(whole.boxes, ref.boxes * 5, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(given.boxes, ref.boxes * 5, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(whole.scores, ref.scores, rtol=1e-4, atol=1e-5)
