"""Training through Ray Jobs on a real local cluster (two Ray Train workers): events
arrive once each and in order in the run record, checkpoints come back, a dropped
connection is recovered, Cancel, Resume and a failing job are recorded as locally."""

from __future__ import annotations

import threading

import pytest

from app.shell.cli import main
from tests.cluster.helpers import (DETECTOR, TINY, assert_in_order, follow, log_text, recorded,
                                   submit)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_detector_on_two_workers_survives_a_dropped_connection(project, proxy, trainer_env):
    import torch

    launch, job = submit(project, DETECTOR, TINY, proxy.address)
    compute = project.runs.get(launch.run_id).dataset["compute"]
    assert compute["job_id"] == job and compute["workers"] == 2 and compute["gpu"] is False
    seen = []

    def on_event(event):
        seen.append(event["event"])
        if len(seen) == 1:   # the first event: cut the line for three seconds
            threading.Thread(target=proxy.drop, args=(3.0,), daemon=True).start()

    status, follower = follow(project, launch.run_id, proxy.address, job, lock=launch.lock,
                              on_event=on_event)
    assert status == "finished", project.runs.get(launch.run_id).message
    assert proxy.drops == 1 and follower.lost >= 1
    events = recorded(project, launch.run_id)
    assert_in_order(events, "finished")
    assert [e["event"] for e in events] == seen        # every event once, none lost or doubled
    assert events[0]["world_size"] == 2 and events[0]["device"] == "cpu"
    run = project.runs.get(launch.run_id)
    assert run.best_metric is not None and run.metrics["history"][0]["epoch"] == 0
    run_dir = project.resolve(run.run_dir)
    for name in ("last.pt", "best.pt"):
        state = torch.load(run_dir / name, weights_only=True)
        assert state["template"] == DETECTOR and state["epoch"] == 1
    assert "connection to the cluster lost" in log_text(project, launch.run_id)
    assert not list(run_dir.glob("*.part"))


def test_cancel_keeps_a_checkpoint_and_resume_goes_on_from_it(project, ray_head, trainer_env,
                                                              capsys):
    # 8 images, two ranks of two: two steps an epoch; Cancel, pressed when the run has
    # started, reaches the workers seconds later, long before the 20th epoch
    slow = {**TINY, "epochs": "20", "val_fraction": "0"}
    launch, job = submit(project, DETECTOR, slow, ray_head.address)
    held = []

    def on_event(event):
        if event["event"] == "started" and not held:
            held.append(event)
            follower_box[0].cancel()

    from app.runs.ray_follow import RayJobFollower
    import asyncio

    follower_box = [RayJobFollower(project, launch.run_id, ray_head.address, job,
                                   lock=launch.lock, on_event=on_event)]
    status = asyncio.run(asyncio.wait_for(follower_box[0].run(), 300))
    run = project.runs.get(launch.run_id)
    assert status == "cancelled", run.message
    events = recorded(project, launch.run_id)
    assert_in_order(events, "cancelled")
    stopped = events[-1]
    assert stopped["epoch"] < 19
    run_dir = project.resolve(run.run_dir)
    assert (run_dir / "last.pt").is_file()
    assert "resumable" in run.message

    # Resume from the command line: the run goes back to the cluster it ran on.
    assert main(["train", str(project.root), "--resume", str(launch.run_id), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"run #{launch.run_id} finished" in err and "Ray job" in err
    run = project.runs.get(launch.run_id)
    assert run.status == "finished"
    compute = run.dataset["compute"]
    assert len(compute["jobs"]) == 2 and compute["job_id"] == compute["jobs"][1] != job
    second = [e for e in recorded(project, launch.run_id) if e["job"] == compute["job_id"]]
    assert_in_order(second, "finished")
    assert second[0]["resumed_from"] and second[0]["start_epoch"] == stopped["epoch"]
    assert second[-1]["epoch"] == 20


def test_a_bad_hyperparameter_fails_the_job_with_its_reason(project, ray_head, trainer_env):
    from app.cluster.jobs import status as job_status

    launch, job = submit(project, DETECTOR, {**TINY, "lr": "-1"}, ray_head.address)
    status, _ = follow(project, launch.run_id, ray_head.address, job, lock=launch.lock)
    run = project.runs.get(launch.run_id)
    assert status == "failed" and "lr" in run.message, run.message
    assert job_status(ray_head.address, job)[0] == "FAILED"
    events = recorded(project, launch.run_id)   # refused before any worker started
    assert [(e["event"], e["seq"]) for e in events] == [("failed", 0)]
    assert "outside the range" in events[0]["message"]


def test_unreachable_cluster_and_missing_ray_are_user_errors(project, capsys, monkeypatch):
    from tests.cluster.proxy import free_port

    root = str(project.root)
    argv = ["train", root, "--template", DETECTOR, "--compute", f"http://127.0.0.1:{free_port()}"]
    assert main(argv) == 2
    assert "cannot reach the Ray cluster" in capsys.readouterr().err
    assert main(["train", root, "--template", DETECTOR, "--compute", "ftp://x"]) == 2
    assert "not a Ray address" in capsys.readouterr().err
    import app.cluster.connect as connect

    monkeypatch.setattr(connect, "ray_installed", lambda: False)
    assert main(argv) == 2
    assert 'pip install -e ".[cluster]"' in capsys.readouterr().err
    assert project.runs.all() == []


def test_a_job_the_cluster_does_not_know_fails_the_run(project, ray_head):
    """A reopened project whose cluster was restarted: the job id is unknown there."""
    from app.runs import records
    from app.runs.cluster import ClusterTarget, job_spec

    launch = records.prepare_run(project, DETECTOR, TINY)
    _spec, compute = job_spec(project, launch.run_id, ClusterTarget(ray_head.address), None)
    run = project.runs.get(launch.run_id)
    project.runs.update(launch.run_id, dataset={**run.dataset, "compute": compute})
    status, _ = follow(project, launch.run_id, ray_head.address, compute["job_id"],
                       lock=launch.lock, timeout=60)
    assert status == "failed"
    assert "does not know job" in project.runs.get(launch.run_id).message


def test_a_ray_client_address_leads_to_the_jobs_api(ray_head, monkeypatch):
    from app.cluster.connect import ClusterError, describe, job_client

    address = f"ray://127.0.0.1:{ray_head.client_port}"
    info = describe(address)
    assert info.cpus == 2 and info.address == address and info.dashboard == ray_head.address
    assert job_client(address).get_address() == ray_head.address   # resolved once, kept
    monkeypatch.setenv("RAY_ADDRESS", "http://elsewhere:8265")      # Ray would prefer it
    with pytest.raises(ClusterError, match="RAY_ADDRESS=http://elsewhere:8265 is set"):
        job_client(ray_head.address)
