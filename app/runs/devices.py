"""Which devices a run can use, found without importing torch in the window:
``nvidia-smi -L`` in a background thread (it can take a second or two)."""

from __future__ import annotations

import platform
import re
import subprocess
import threading
from typing import Callable

_GPU_LINE = re.compile(r"^GPU (\d+): (.+?)(?: \(UUID:.*\))?$")


def parse_nvidia_smi(text: str) -> list[tuple[int, str]]:
    return [(int(m.group(1)), m.group(2).strip())
            for m in map(_GPU_LINE.match, text.splitlines()) if m]


def list_gpus(timeout: float = 10.0) -> list[tuple[int, str]]:
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True,
                             timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return []  # no driver, no nvidia-smi: CPU only
    return parse_nvidia_smi(out.stdout) if out.returncode == 0 else []


def device_choices(gpus: list[tuple[int, str]]) -> list[dict]:
    """Panel entries ``{"label", "device", "gpus"}``, the best first."""
    out = [{"label": f"GPU {i}: {name}", "device": f"cuda:{i}", "gpus": 1} for i, name in gpus]
    if len(gpus) > 1:
        out.append({"label": f"all {len(gpus)} GPUs (torchrun)", "device": "cuda", "gpus": len(gpus)})
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        out.append({"label": "Apple GPU (mps)", "device": "mps", "gpus": 1})
    out.append({"label": "CPU", "device": "cpu", "gpus": 1})
    return out


def find_devices(done: Callable[[list[dict]], None]) -> threading.Thread:
    """Call ``done(choices)`` from a daemon thread (connect it to a queued Qt signal)."""
    thread = threading.Thread(target=lambda: done(device_choices(list_gpus())),
                              name="kestrel-gpus", daemon=True)
    thread.start()
    return thread
