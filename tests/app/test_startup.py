"""The window starts without torch: templates, events and all window modules are
torch-free until a model is actually trained, run or embedded."""

import subprocess
import sys


def test_window_and_cli_start_without_importing_torch(tmp_path):
    code = f"""
import sys
from app.shell.demo import make_demo
make_demo({str(tmp_path / 'demo')!r}, n_images=2, video=False).close()
from app.shell.startup import application, open_window
app = application()
w = open_window({str(tmp_path / 'demo')!r})
w.show()
w.restore_last_media()
w.grab()
import app.shell.cli
print(sorted(m for m in ("torch", "torchvision") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
