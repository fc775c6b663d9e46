"""A run whose follower died (window crash, kill) is found and made resumable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from app.runs import records as runs
from app.shell.cli import main
from app.runs.lock import INTERRUPTED, RunBusy, RunLock, is_followed, reap_interrupted


def _stale_run(project, tmp_path):
    """A run recorded as running, with a checkpoint, as a crashed window leaves it."""
    run_id = project.runs.add(name="r", task="detector", template="t", run_dir="",
                             hyperparameters={}, dataset={})
    run_dir = project.root / "runs" / f"{run_id:04d}-t"
    run_dir.mkdir(parents=True)
    project.runs.update(run_id, run_dir=project.stored_path(run_dir))
    (run_dir / runs.LAST).write_bytes(b"checkpoint")
    return run_id, run_dir


def test_the_lock_is_exclusive_and_freed_on_release(tmp_path):
    assert is_followed(tmp_path) is None                  # never locked: unknown
    lock = RunLock(tmp_path)
    assert is_followed(tmp_path) is True
    with pytest.raises(RunBusy, match=tmp_path.name):
        RunLock(tmp_path)
    lock.release()
    assert is_followed(tmp_path) is False
    with RunLock(tmp_path):
        assert is_followed(tmp_path) is True


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_a_killed_follower_leaves_a_run_that_is_reaped_and_resumable(project, tmp_path):
    run_id, run_dir = _stale_run(project, tmp_path)
    code = textwrap.dedent(f"""
        import sys, time
        from app.runs.lock import RunLock
        lock = RunLock({str(run_dir)!r})
        print("locked", flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        assert reap_interrupted(project) == []              # followed: left alone
        assert project.runs.get(run_id).status == "running"
        with pytest.raises(RunBusy):
            runs.prepare_resume(project, run_id)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert reap_interrupted(project) == [run_id]
    run = project.runs.get(run_id)
    assert (run.status, run.message) == ("failed", INTERRUPTED)
    assert runs.run_row(project, run)["resumable"]
    launch = runs.prepare_resume(project, run_id)           # this process follows it now
    try:
        assert project.runs.get(run_id).status == "running" and "--resume" in launch.argv
        assert reap_interrupted(project) == []
    finally:
        launch.lock.release()


def test_kestrel_runs_reports_an_interrupted_run(project, tmp_path, capsys):
    run_id, run_dir = _stale_run(project, tmp_path)
    RunLock(run_dir).release()                              # a lock nobody holds any more
    assert main(["runs", str(project.root)]) == 0
    out = capsys.readouterr().out
    assert "failed" in out and "interrupted" in out
    assert project.runs.get(run_id).status == "failed"


def test_a_run_being_prepared_is_not_reaped(project):
    # prepare_run takes the lock before it exports: a lister in between leaves it alone.
    launch = runs.prepare_run(project, "fasterrcnn_mobilenet_v3_large_320_fpn", {"epochs": "1"})
    try:
        assert reap_interrupted(project) == []
        assert project.runs.get(launch.run_id).status == "running"
    finally:
        launch.lock.release()
    assert reap_interrupted(project) == [launch.run_id]
