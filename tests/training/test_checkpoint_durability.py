"""Checkpoints survive a trainer killed mid-write and a full disk: the previous
last.pt stays whole and loadable, Resume goes on from it, nothing half-written
carries the final name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

from .conftest import run_events

TEMPLATE = "fasterrcnn_mobilenet_v3_large_320_fpn"


def _kill_while_writing(path: Path) -> None:
    """A child process writes a new ``path`` and is SIGKILLed while the bytes go to disk."""
    script = textwrap.dedent(f"""
        import os, sys, time, torch
        from training import checkpoint
        real_fsync = os.fsync
        def slow_fsync(fd):
            print("writing", flush=True)
            time.sleep(60)
        checkpoint.os.fsync = slow_fsync
        checkpoint.save_checkpoint({str(path)!r}, {{"model": {{"w": torch.ones(1000)}}, "epoch": 99}})
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    try:
        assert child.stdout.readline().strip() == "writing"
        child.send_signal(signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()


def test_a_kill_mid_write_keeps_the_previous_file(tmp_path):
    last = tmp_path / "last.pt"
    save_checkpoint(last, {"model": {"w": torch.zeros(10)}, "epoch": 1})
    _kill_while_writing(last)
    assert (tmp_path / "last.pt.tmp").exists()              # the unfinished write, aside
    assert load_checkpoint(last)["epoch"] == 1
    save_checkpoint(last, {"model": {"w": torch.zeros(10)}, "epoch": 2})
    assert load_checkpoint(last)["epoch"] == 2 and not (tmp_path / "last.pt.tmp").exists()


def test_a_full_disk_fails_the_write_cleanly(small_disk):
    disk = small_disk("512k")
    last = disk.folder / "run" / "last.pt"
    save_checkpoint(last, {"model": {"w": torch.zeros(10)}, "epoch": 1})
    with pytest.raises(CheckpointError, match="disk is full.*previous last.pt"):
        save_checkpoint(last, {"model": {"w": torch.zeros(1_000_000)}, "epoch": 2})
    assert load_checkpoint(last)["epoch"] == 1
    assert sorted(os.listdir(last.parent)) == ["last.pt"]


@pytest.mark.slow
def test_resume_after_a_kill_mid_write_uses_the_previous_checkpoint(small_coco, tmp_path):
    rc, events = run_events(*small_coco, TEMPLATE, tmp_path, ["epochs=2"])
    assert rc == 0 and load_checkpoint(tmp_path / "last.pt")["epoch"] == 2
    before = (tmp_path / "last.pt").read_bytes()
    _kill_while_writing(tmp_path / "last.pt")
    assert (tmp_path / "last.pt").read_bytes() == before
    rc, events = run_events(*small_coco, TEMPLATE, tmp_path, ["epochs=3"], resume=True)
    assert rc == 0 and events[-1]["event"] == "finished", events[-1]
    assert events[0]["resumed_from"] == str(tmp_path / "last.pt")
    assert events[0]["start_epoch"] == 2
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 3
    assert not (tmp_path / "last.pt.tmp").exists()


def test_a_read_only_run_folder_fails_the_write_cleanly(small_disk):
    disk = small_disk("512k")
    last = disk.folder / "last.pt"
    save_checkpoint(last, {"model": {"w": torch.zeros(10)}, "epoch": 1})
    disk.read_only()
    with pytest.raises(CheckpointError, match="read-only"):
        save_checkpoint(last, {"model": {"w": torch.zeros(10)}, "epoch": 2})
    assert load_checkpoint(last)["epoch"] == 1
