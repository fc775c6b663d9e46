"""A test stuck where Python cannot run ends the run with every thread's stack."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_test_stuck_in_c_prints_the_stacks_and_ends_the_run(tmp_path):
    (tmp_path / "test_stuck.py").write_text(textwrap.dedent("""
        import ctypes, threading

        def test_stuck_in_c():
            threading.Thread(target=lambda: None, name="bystander").start()
            ctypes.CDLL(None).sleep(60)       # C, not Python: no signal handler runs
    """))
    env = {**os.environ, "KESTREL_HANG_S": "2", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "tests.hang_watch", "-o", "timeout=0", "--rootdir", str(tmp_path),
                           str(tmp_path / "test_stuck.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=50)
    assert done.returncode != 0
    assert "Timeout (0:00:02)!" in done.stderr
    assert "in test_stuck_in_c" in done.stderr
