"""Training runs on tiny generated data (random init, 64-96 px, a few steps)."""
import json

import pytest
import torch

from training.checkpoint import load_detector_checkpoint
from training.events import parse_event
from training.trainer import Hook

from .conftest import run_events

pytestmark = pytest.mark.slow


def test_events_come_in_order(trained_run):
    run_dir, events = trained_run
    for e in events:
        assert parse_event(json.dumps(e))["schema"] == 1
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert sum(k in ("finished", "cancelled", "failed") for k in kinds) == 1
    started = events[0]
    assert started["steps_per_epoch"] == 2 and started["class_names"] == ["red", "green"]
    progress = [(e["epoch"], e["step"]) for e in events if e["event"] == "progress"]
    assert progress == [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert all(e["lr"] >= 0 and e["images_per_s"] > 0 and e["eta_s"] >= 0
               for e in events if e["event"] == "progress")
    # each epoch: its progress events, then metrics, then the "last" checkpoint
    for epoch in (0, 1):
        i = max(j for j, e in enumerate(events) if e["event"] == "progress" and e["epoch"] == epoch)
        assert events[i + 1]["event"] == "metrics" and events[i + 1]["epoch"] == epoch
        assert set(events[i + 1]["per_class"]) == {"red", "green"}
        assert (events[i + 2]["event"], events[i + 2]["kind"]) == ("checkpoint", "last")
    assert events[-1]["last_path"] == str(run_dir / "last.pt")


def test_checkpoints_are_plain_data(trained_run):
    run_dir, _ = trained_run
    for name in ("last.pt", "best.pt"):
        state = torch.load(run_dir / name, weights_only=True)
        assert state["template"] == "fasterrcnn_mobilenet_v3_large_320_fpn"
        assert state["class_names"] == ["red", "green"] and state["hparams"]["epochs"] == 2
        assert {"model", "optimizer", "scheduler", "scaler", "rng", "metrics"} <= set(state)
    assert torch.load(run_dir / "last.pt", weights_only=True)["epoch"] == 2


@pytest.mark.parametrize("template", ["fasterrcnn_mobilenet_v3_large_fpn",
                                      "ssdlite320_mobilenet_v3_large", "fasterrcnn_mobilenet_v2"])
def test_small_templates_train_two_iterations(small_coco, tmp_path, template):
    rc, events = run_events(*small_coco, template, tmp_path)
    assert rc == 0, events[-1]
    steps = [e for e in events if e["event"] == "progress"]
    assert [e["step"] for e in steps] == [1, 2]
    assert events[-1]["event"] == "finished" and (tmp_path / "last.pt").exists()


@pytest.mark.parametrize("template", ["fasterrcnn_resnet50_fpn_v2", "retinanet_resnet50_fpn_v2",
                                      "fcos_resnet50_fpn"])
def test_resnet_templates_build_and_give_losses(template):
    from training.hparams import parse_overrides
    from training.templates import get_template

    spec = get_template(template)
    hp = parse_overrides(spec.hparams(), ["pretrained=none", "min_size=64", "max_size=64"])
    model = spec.build(num_classes=3, hparams=hp).train()
    images = [torch.rand(3, 64, 64)]
    targets = [{"boxes": torch.tensor([[8.0, 8.0, 40.0, 40.0]]), "labels": torch.tensor([1])}]
    losses = model(images, targets)
    total = sum(losses.values())
    assert torch.isfinite(total) and len(losses) >= 2
    total.backward()


class StopAt(Hook):
    def __init__(self, epoch, step):
        self.at = (epoch, step)

    def after_step(self, trainer, images):
        if (trainer.epoch, trainer.step) == self.at:
            trainer.request_stop("test")


def test_resume_equals_uninterrupted_run(small_coco, trained_run, tmp_path):
    run_a, _ = trained_run
    rc, events = run_events(*small_coco, "fasterrcnn_mobilenet_v3_large_320_fpn", tmp_path,
                            ["epochs=2"], extra_hooks=[StopAt(0, 1)])
    assert rc == 0 and events[-1]["event"] == "cancelled"
    assert (events[-1]["epoch"], events[-1]["step"]) == (0, 1)
    rc, events = run_events(*small_coco, "fasterrcnn_mobilenet_v3_large_320_fpn", tmp_path,
                            ["epochs=2"], resume=True)
    assert rc == 0 and events[-1]["event"] == "finished", events[-1]
    assert events[0]["resumed_from"] and events[1]["event"] == "progress"
    assert (events[1]["epoch"], events[1]["step"]) == (0, 2)
    a = load_detector_checkpoint(run_a / "last.pt")
    b = load_detector_checkpoint(tmp_path / "last.pt")
    assert a["epoch"] == b["epoch"] == 2
    for k, v in a["model"].items():
        torch.testing.assert_close(b["model"][k], v, rtol=1e-4, atol=1e-5, msg=k)
    assert b["scheduler"]["last_epoch"] == a["scheduler"]["last_epoch"]


def test_non_finite_loss_fails_cleanly(small_coco, tmp_path):
    from training.hparams import DetectorHParams
    from training.templates import register_template

    @register_template("test_nan_detector", task="detector", description="NaN", hint="-",
                       hparams=DetectorHParams)
    def build(*, num_classes, hparams):
        class Nan(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = torch.nn.Parameter(torch.zeros(1))

            def forward(self, images, targets=None):
                return {"loss_nan": self.w * float("nan")}
        return Nan()

    rc, events = run_events(*small_coco, "test_nan_detector", tmp_path)
    assert rc == 1
    assert events[-1]["event"] == "failed" and "NonFiniteLoss" in events[-1]["message"]
    assert "Traceback" in events[-1]["traceback"]


def test_missing_pretrained_weights_fall_back_with_a_notice(small_coco, tmp_path, capsys):
    """Offline with no weights file: a random start, said in the log; no download."""
    rc, events = run_events(*small_coco, "fasterrcnn_mobilenet_v2", tmp_path,
                            ["pretrained=imagenet"])
    assert rc == 0 and events[-1]["event"] == "finished"
    err = capsys.readouterr().err
    assert "notice:" in err and "weights import" in err and "starting from random weights" in err
    # the run says so in its events too: what was missing, and what it started from
    weights = [e for e in events if e["event"] == "weights"]
    assert [w["state"] for w in weights] == ["missing", "start"]
    assert weights[0]["file"] == "mobilenet_v2-b0353104.pth" and weights[0]["warning"]
    assert weights[1]["start"] == "none" and weights[1]["warning"]
    started = next(e for e in events if e["event"] == "started")
    assert started["start"] == "none" and started["time_budget_s"] is None


def test_untrusted_pickle_checkpoint_is_refused(tmp_path):
    from training.checkpoint import CheckpointError, load_checkpoint

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (marker.touch, ())

    torch.save({"model": {}, "payload": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="arbitrary Python objects"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not marker.exists()
