"""Launch to a drawn window, with torch never imported on the way.

Run on demand: ``python tests/benchmarks/bench_launch.py [PROJECT]`` (default: a fresh
demo project). Each sample is a new process: interpreter start, imports, project open,
window construction, first image loaded and painted (offscreen), measured from the
process's own start.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = r"""
import os, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtWidgets import QApplication
from app.shell.startup import application, open_window
app = application()
w = open_window(sys.argv[1])
w.show()
w.restore_last_media()
w.grab()                      # forces layout and a full paint
app.processEvents()
print("torch" in sys.modules)
"""


def main() -> None:
    if len(sys.argv) > 1:
        project = sys.argv[1]
    else:
        from app.shell.demo import make_demo

        project = str(Path(tempfile.mkdtemp()) / "demo")
        make_demo(project).close()
    times, torch_loaded = [], set()
    for _ in range(7):
        start = _now()
        out = subprocess.run([sys.executable, "-c", PROBE, project], capture_output=True, text=True,
                             check=True).stdout.split()
        times.append(_now() - start)
        torch_loaded.add(out[-1])
    print(f"launch to drawn window: median {statistics.median(times) * 1000:.0f} ms, "
          f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {len(times)} runs")
    print(f"torch imported at start-up: {', '.join(sorted(torch_loaded))}")


def _now() -> float:
    import time

    return time.perf_counter()


if __name__ == "__main__":
    main()
