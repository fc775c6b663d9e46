"""Shared by the cluster tests: tiny settings, a run submitted and followed."""

from __future__ import annotations

import asyncio
import json

DETECTOR = "ssdlite320_mobilenet_v3_large"
# time_budget 0: one epoch, whatever the window suggests for a CPU (a 10-minute budget)
TINY = {"epochs": "1", "time_budget": "0", "batch_size": "2", "min_size": "64", "max_size": "96",
        "pretrained": "none", "workers": "0", "warmup_iters": "2", "val_fraction": "0.25"}
EMBEDDER = "embed_resnet18"
TINY_EMBEDDER = {"epochs": "1", "time_budget": "0", "batch_size": "6", "samples_per_class": "2", "image_size": "64",
                 "embedding_size": "16", "pretrained": "none", "workers": "0",
                 "warmup_iters": "1", "val_fraction": "0.34", "photometric": "false",
                 "source": "boxes"}


def submit(project, template, overrides, address, task="detector", workers=2):
    from app.runs import records
    from app.runs.cluster import ClusterTarget, submit_run

    launch = records.prepare_run(project, template, overrides, task=task)
    job = submit_run(project, launch.run_id, ClusterTarget(address, workers=workers))
    return launch, job


def follow(project, run_id, address, job_id, lock=None, timeout=300, **callbacks):
    from app.runs.ray_follow import RayJobFollower

    follower = RayJobFollower(project, run_id, address, job_id, lock=lock, **callbacks)

    async def go():
        return await asyncio.wait_for(follower.run(), timeout)
    return asyncio.run(go()), follower


def recorded(project, run_id) -> list[dict]:
    from app.runs.records import events_of

    return events_of(project, run_id)


def assert_in_order(events: list[dict], terminal: str) -> None:
    """Numbered 0..n-1 with no gap or repeat; started first, the terminal event last."""
    assert [e["seq"] for e in events] == list(range(len(events))), [e.get("seq") for e in events]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == terminal, kinds
    assert sum(k in ("finished", "cancelled", "failed") for k in kinds) == 1
    times = [e["time"] for e in events]
    assert times == sorted(times)


def log_text(project, run_id) -> str:
    from app.runs.records import LOG_FILE

    return (project.resolve(project.runs.get(run_id).run_dir) / LOG_FILE).read_text()


def jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def model_runs(project, task: str, template: str, overrides: list[str]) -> tuple[int, int]:
    """Two run records sharing one small random-weight checkpoint: one predicts on the
    cluster, the other here, in the same tables."""
    import torch

    from training import hparams as hpmod
    from training.checkpoint import save_checkpoint
    from training.embedding.checkpoint import FORMAT
    from training.templates import get_template

    torch.manual_seed(0)
    spec = get_template(template)
    hp = hpmod.parse_overrides(spec.hparams(), ["pretrained=none", *overrides])
    names = [c.name for c in project.classes.all()]
    model = spec.build(num_classes=len(names) + (task == "detector"), hparams=hp)
    run_dir = project.root / "runs" / f"model-{task}"
    state = {"template": template, "hparams": hpmod.to_dict(hp), "class_names": names,
             "category_ids": list(range(1, len(names) + 1)), "model": model.state_dict(),
             "epoch": 1, "step": 0}
    if task == "embedder":
        state = {**state, "format": FORMAT, "source": "boxes"}
    save_checkpoint(run_dir / "best.pt", state)
    ids = []
    for name in ("cluster", "local"):
        run_id = project.runs.add(name=name, task=task, template=template, run_dir=f"runs/model-{task}")
        project.runs.update(run_id, status="finished")
        ids.append(run_id)
    return ids[0], ids[1]
