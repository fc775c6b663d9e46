"""``kestrel train`` and ``kestrel runs`` go through app.runs.records like the panel."""

from __future__ import annotations

import json

import pytest

from app.shell.cli import main
from tests.training_panel.helpers import TEMPLATE, TINY

pytestmark = pytest.mark.timeout(240)


@pytest.mark.slow
def test_train_then_list_runs(project, trainer_env, capsys):
    root = str(project.root)
    sets = [a for k, v in {**TINY, "epochs": 1}.items() for a in ("--set", f"{k}={v}")]
    assert main(["train", root, "--template", TEMPLATE, *sets, "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "run #1: 8 images" in err and "run #1 finished" in err
    assert main(["runs", root, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["status"], r["template"]) for r in rows] == [(1, "finished", TEMPLATE)]
    assert rows[0]["best_metric"] is not None and rows[0]["hyperparameters"]["epochs"] == "1"
    assert rows[0]["duration_s"] > 0 and rows[0]["has_model"] and not rows[0]["resumable"]
    assert main(["runs", root]) == 0
    assert "finished" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--template", "nope"], "unknown template"),
    (["--template", TEMPLATE, "--set", "epochs=0"], "outside the range"),
    (["--template", TEMPLATE, "--set", "bogus"], "expected key=value"),
    (["--resume", "7"], "no run with id 7"),
])
def test_user_errors_exit_2_before_any_run(project, capsys, argv, message):
    assert main(["train", str(project.root), *argv]) == 2
    assert message in capsys.readouterr().err
    assert project.runs.all() == []


def test_no_template_uses_the_panels_default_and_says_which(project, capsys, monkeypatch,
                                                            tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    monkeypatch.delenv("KESTREL_ALLOW_DOWNLOAD", raising=False)
    # a bad --set stops it before any run, after it said what it would train
    assert main(["train", str(project.root), "--device", "cpu", "--set", "epochs=0"]) == 2
    err = capsys.readouterr().err
    assert "no --template: using fasterrcnn_mobilenet_v3_large_fpn" in err
    assert "no pretrained weights on this machine" in err and "--set time_budget=10" in err
    assert "outside the range" in err and project.runs.all() == []
    assert main(["train", str(project.root), "--device", "cpu", "--allow-download",
                 "--set", "epochs=0"]) == 2
    assert "will be downloaded" in capsys.readouterr().err


def test_trainer_argv_matches_the_training_cli(tmp_path):
    from app.runs.records import trainer_argv
    from training.cli import _parser

    argv = trainer_argv(tmp_path, TEMPLATE, {"epochs": "3", "milestones": "0.5, 0.8"},
                        device="cuda:1", resume=True)
    args = _parser().parse_args(argv[3:])
    assert (args.template, args.device, args.resume, args.run_dir) == (TEMPLATE, "cuda:1", True, tmp_path)
    assert args.coco == tmp_path / "dataset" / "annotations.json"
    assert args.overrides == ["epochs=3", "milestones=0.5, 0.8"]
    ddp = trainer_argv(tmp_path, TEMPLATE, {}, device="cuda", gpus=4)
    assert ddp[1:5] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=4"]
    assert _parser().parse_args(ddp[7:]).device == "cuda"
