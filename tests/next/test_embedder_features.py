"""With an embedder run, Label next measures diversity with its embeddings, stored
with the search's (visual search reuses them, nothing is embedded twice)."""
from __future__ import annotations

import json

from app.shell.cli import main
from tests.embedding.conftest import (_one_thread_offline, classes_coco,  # noqa: F401
                                      make_project, trained_embedder)


def test_next_takes_features_from_the_embedder_run(trained_embedder, tmp_path, capsys):  # noqa: F811
    project, run_id, truth = make_project(tmp_path, trained_embedder)
    project.runs.update(run_id, status="finished")
    left = list(truth)[-3:]                                   # three not labelled yet
    project.boxes.delete([b.id for m in left for b in project.boxes.labels(m)])
    root = str(project.root)
    project.close()
    assert main(["next", root, "--run", "none", "--embedder", str(run_id), "-n", "3", "--json",
                 "--quiet", "--device", "cpu"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["features"] == f"embedder:{run_id}" and out["candidates"] == 3
    assert sorted(i["media_id"] for i in out["items"]) == sorted(left)
    from app.store.project import Project

    with Project.open(root) as p:
        keys, vectors = p.embeddings.load(run_id, ["image"])
        assert {k.media_id for k in keys} == set(truth) and len(vectors) == len(truth)
    assert main(["embed", root, "--run", str(run_id), "--device", "cpu"]) == 0
    # the search's own embedding finds every image already there (only box crops are new)
    assert f"already there {len(truth)}," in capsys.readouterr().out
