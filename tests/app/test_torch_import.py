"""Two threads loading models at once: the second waits for the first's torch import.
Without ``import_torch`` first, a thread importing torchvision's submodules while
another initialises torchvision gets the half-made package and both imports fail."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import sys, threading, time
    from app.tasks.torch_import import import_torch
    assert "torch" not in sys.modules
    errors = []

    def load(then, helper=True):
        try:
            if helper:
                import_torch()
            __import__(then)
        except Exception as exc:
            errors.append(repr(exc))

    first = threading.Thread(target=load, args=("torchvision",))
    second = threading.Thread(target=load, args=("training.predictor",))
    first.start()
    while "torch" not in sys.modules:       # the first thread is importing torch now
        time.sleep(0.001)
    second.start()
    first.join(); second.join()
    from torchvision.ops import StochasticDepth  # noqa: F401  (whole, not half-made)
    print("errors:", errors)
""")


def test_a_second_thread_waits_for_the_first_torch_import():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "errors: []" in done.stdout
