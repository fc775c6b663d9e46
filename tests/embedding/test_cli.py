"""``kestrel train`` with an embedder template, then embed / search / classify."""
from __future__ import annotations

import json

import pytest

from app.shell.cli import main
from tests.embedding.conftest import make_project

pytestmark = pytest.mark.timeout(240)


@pytest.mark.slow
def test_kestrel_train_embedder_then_embed_search_classify(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    project, _, truth = make_project(tmp_path, None, per_class=3)
    root = str(project.root)
    project.close()
    sets = [a for kv in ["epochs=1", "batch_size=6", "samples_per_class=2", "image_size=64",
                         "embedding_size=16", "pretrained=none", "workers=0",
                         "val_fraction=0.34", "warmup_iters=1"] for a in ("--set", kv)]
    assert main(["train", root, "--template", "embed_resnet18", *sets, "--device", "cpu",
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["runs", root, "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert (row["status"], row["template"]) == ("finished", "embed_resnet18")
    assert row["best_metric"] is not None          # precision@1 from the metrics events
    run = str(row["id"])

    assert main(["embed", root, "--run", run, "--quiet"]) == 0
    assert capsys.readouterr().out.startswith(f"embedded {2 * len(truth)},")
    assert main(["embed", root, "--run", run, "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("embedded 0, already there")

    first = min(truth)
    assert main(["search", root, "--run", run, str(first), "-k", "3", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert len(hits) == 3 and hits[0]["media_id"] == first
    assert hits[0]["similarity"] == pytest.approx(1.0, abs=1e-4)
    assert main(["search", root, "--run", run, "box:1", "-k", "2", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits[0]["box_id"] == 1 and all(h["kind"] == "box" for h in hits)
    image = project.root.parent / "media" / "000.png"
    assert main(["search", root, "--run", run, str(image), "-k", "1"]) == 0
    assert "000.png" in capsys.readouterr().out

    assert main(["classify", root, "--run", run, "--threshold", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["learnt"] == ["circle", "square", "triangle"]
    assert len(out["suggestions"]) == len(truth) - 9      # the untagged images


def test_user_errors_exit_2(tmp_path, capsys):
    project, run_id, _ = make_project(tmp_path, tmp_path / "empty", per_class=1, untagged=0)
    detector = project.runs.add(name="d", task="detector", template="x", run_dir="")
    root = str(project.root)
    project.close()
    for argv, message in [
        (["embed", root, "--run", "99"], "no run with id 99"),
        (["embed", root, "--run", str(detector)], "not an embedder"),
        (["embed", root, "--run", str(run_id)], "no checkpoint yet"),
        (["embed", root, "--run", str(run_id), "--kinds", "faces"], "--kinds"),
    ]:
        assert main(argv) == 2, argv
        assert message in capsys.readouterr().err
