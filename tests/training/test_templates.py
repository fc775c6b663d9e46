"""Template registry and hyperparameters: torch-free, typed, validated."""
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from training.hparams import DetectorHParams, HParamError, describe, from_dict, parse_overrides, to_dict
from training.templates import get_template, list_templates, register_template

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {"fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn",
            "fasterrcnn_resnet50_fpn_v2", "retinanet_resnet50_fpn_v2", "fcos_resnet50_fpn",
            "ssdlite320_mobilenet_v3_large", "fasterrcnn_mobilenet_v2"}


def test_app_side_imports_do_not_import_torch():
    code = ("import sys, training.templates as t, training.events as e, training.hparams;"
            "import training.cli; training.cli.train_argv('c.json', 'img', 'x', 'run', {'lr': 0.1});"
            "specs = t.list_templates();"
            "[training.hparams.describe(s.hparams) for s in specs];"
            "assert 'torch' not in sys.modules, 'torch imported';"
            "assert 'torchvision' not in sys.modules; print(len(specs))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 7


def test_registry_lists_detectors_with_metadata():
    specs = list_templates(task="detector")
    assert EXPECTED <= {s.name for s in specs}
    for s in specs:
        assert s.task == "detector" and s.description and s.hint
        hp = s.hparams()
        assert dataclasses.is_dataclass(hp) and isinstance(hp, DetectorHParams)
        with pytest.raises(dataclasses.FrozenInstanceError):
            hp.epochs = 3
        for f in describe(s.hparams):
            assert f["help"], f
            assert "range" in f or "choices" in f or f["type"] == "bool", f
    assert list_templates(task="embedder") == [] or all(
        s.task == "embedder" for s in list_templates(task="embedder"))


def test_required_hyperparameters_exist():
    names = {f.name for f in dataclasses.fields(DetectorHParams)}
    assert {"epochs", "batch_size", "lr", "lr_mode", "weight_decay", "warmup_iters", "schedule",
            "min_size", "max_size", "trainable_backbone_layers", "hflip", "scale_jitter",
            "photometric", "amp", "patience", "seed", "pretrained", "val_fraction"} <= names


def test_parse_overrides_converts_and_validates():
    hp = get_template("fasterrcnn_mobilenet_v2").hparams()
    assert hp.pretrained == "imagenet"
    new = parse_overrides(hp, ["epochs=3", "lr=0.5", "photometric=yes", "milestones=0.5,0.8",
                               "schedule=multistep", "pretrained=/tmp/w.pth"])
    assert (new.epochs, new.lr, new.photometric, new.milestones) == (3, 0.5, True, (0.5, 0.8))
    assert new.pretrained == "/tmp/w.pth" and hp.epochs != 3  # the original is untouched
    for bad, word in [("epochs=0", "epochs"), ("epochs=2.5", "epochs"), ("lr=abc", "lr"),
                      ("schedule=linear", "schedule"), ("nope=1", "nope"), ("epochs", "key=value"),
                      ("pretrained=coco", "pretrained"), ("photometric=maybe", "photometric")]:
        with pytest.raises(HParamError, match=word):
            parse_overrides(hp, [bad])
    assert from_dict(type(hp), to_dict(new)) == new


def test_register_template_is_task_generic():
    @register_template("test_dummy_embedder", task="embedder", description="d", hint="h",
                       hparams=DetectorHParams)
    def build(*, num_classes, hparams):
        return ("built", num_classes, hparams.epochs)

    spec = get_template("test_dummy_embedder")
    assert spec in list_templates(task="embedder") and spec not in list_templates(task="detector")
    assert spec.build(num_classes=3) == ("built", 3, 12)
    with pytest.raises(KeyError, match="unknown template"):
        get_template("no_such_template")


def test_train_argv_round_trips_through_the_parser():
    from training.cli import _parser, train_argv

    argv = train_argv("c.json", "imgs", "fasterrcnn_mobilenet_v2", "run",
                      {"lr": 0.1, "milestones": (0.5, 0.8)}, resume=True, device="cpu")
    args = _parser().parse_args(argv[3:])
    assert args.overrides == ["lr=0.1", "milestones=0.5,0.8"] and args.resume
    assert (args.template, args.device, str(args.run_dir)) == ("fasterrcnn_mobilenet_v2", "cpu", "run")


def test_cli_templates_json():
    out = subprocess.run([sys.executable, "-m", "training", "templates", "--json"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert EXPECTED <= {t["name"] for t in data}
    fields = {f["name"]: f for f in data[0]["hparams"]}
    assert fields["schedule"]["choices"] == ["cosine", "multistep", "constant"]
    assert fields["pretrained"]["or_file"] is True
