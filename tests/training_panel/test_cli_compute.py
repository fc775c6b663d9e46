"""``kestrel train --compute/--storage/--follow`` user errors, found before anything
is sent anywhere (no cluster and no Ray needed)."""

from __future__ import annotations

import pytest

from app.shell.cli import main
from tests.training_panel.helpers import TEMPLATE


@pytest.mark.parametrize("argv, message", [
    (["--template", TEMPLATE, "--storage", "/shared/ckpt"], "--storage needs --compute"),
    (["--template", TEMPLATE, "--compute", "ftp://head"], "not a Ray address"),
    (["--template", TEMPLATE, "--compute", "http://head:8265", "--workers", "0"],
     "at least one worker"),
    (["--follow", "9"], "no run with id 9"),
])
def test_cluster_user_errors_exit_2_before_any_run(project, capsys, argv, message):
    assert main(["train", str(project.root), *argv]) == 2
    assert message in capsys.readouterr().err
    assert project.runs.all() == []


def test_follow_refuses_a_run_that_is_not_on_a_cluster(project, capsys):
    run_id = project.runs.add(name="r", task="detector", template=TEMPLATE, run_dir="runs/x")
    project.runs.update(run_id, status="finished")
    assert main(["train", str(project.root), "--follow", str(run_id)]) == 2
    assert "not running on a cluster (finished)" in capsys.readouterr().err
