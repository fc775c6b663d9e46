"""`kestrel … | head` ends quietly: no BrokenPipe traceback, whatever the command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.store.project import Project

ROOT = Path(__file__).resolve().parents[2]


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    with Project.create(tmp_path / "p") as project:
        with project.transaction():
            for i in range(4000):   # ~100 KB of `kestrel info`: more than a pipe buffer holds
                project.tags.add(f"tag number {i:05d}")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        f"'{sys.executable}' -m app info '{tmp_path / 'p'}' | head -n 2",
        shell=True, capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.stdout.splitlines()[0].startswith("project")
    assert len(proc.stdout.splitlines()) == 2
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
