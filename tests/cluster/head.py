"""A local Ray head for tests and benchmarks: ``ray start --head --block`` in a process
group of its own (CPU only, 2 CPUs, a small object store, every port chosen free, a
short temp dir), stopped by signalling that group, never by ``ray stop``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.cluster.proxy import free_port

HEAD_START_S = 120
# Ends the head's group if the process that started it dies without stopping it
# (a test run killed outright): it polls that process, then signals the group.
WATCHDOG = """
import os, signal, sys, time
owner, group = int(sys.argv[1]), int(sys.argv[2])
def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
while alive(owner):
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        sys.exit(0)
    time.sleep(2)
for sig in (signal.SIGTERM, signal.SIGKILL):
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        sys.exit(0)
    time.sleep(20)
"""


class Head:
    def __init__(self):
        self.temp = Path(tempfile.mkdtemp(prefix="kr"))   # short: socket paths are limited
        self.dashboard_port, self.client_port = free_port(), free_port()
        ports = {"--port": free_port(), "--dashboard-port": self.dashboard_port,
                 "--ray-client-server-port": self.client_port, "--node-manager-port": free_port(),
                 "--object-manager-port": free_port(), "--metrics-export-port": free_port(),
                 "--dashboard-agent-listen-port": free_port(),
                 "--dashboard-agent-grpc-port": free_port(),
                 "--runtime-env-agent-port": free_port()}
        argv = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
                "--num-cpus=2", "--num-gpus=0", "--object-store-memory=200000000",
                "--include-dashboard=true", "--dashboard-host=127.0.0.1",
                "--node-ip-address=127.0.0.1", "--disable-usage-stats",
                f"--temp-dir={self.temp}", *[f"{k}={v}" for k, v in ports.items()]]
        # No memory monitor: on a machine shared with other people's jobs it counts their
        # memory too and kills this cluster's workers at 95 % of the host's.
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "RAY_USAGE_STATS_ENABLED": "0",
               "OMP_NUM_THREADS": "1", "RAY_DEDUP_LOGS": "0", "RAY_memory_monitor_refresh_ms": "0"}
        env.pop("RAY_ADDRESS", None)
        self.log = open(self.temp / "head.log", "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        self.watchdog = subprocess.Popen([sys.executable, "-c", WATCHDOG, str(os.getpid()),
                                          str(self.proc.pid)], start_new_session=True)
        self.address = f"http://127.0.0.1:{self.dashboard_port}"

    def wait_ready(self) -> None:
        from app.cluster.connect import ClusterError, describe

        deadline = time.monotonic() + HEAD_START_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the Ray head exited: {(self.temp / 'head.log').read_text()[-2000:]}")
            try:
                if describe(self.address).cpus >= 2:
                    return
            except ClusterError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the Ray head did not answer in time")
            time.sleep(1)

    def stop(self) -> None:
        """SIGTERM to the head's process group (ray start --block ends its processes),
        then SIGKILL to whatever of that group is left."""
        pgid = self.proc.pid     # its own session: the group's id is its pid
        try:
            os.killpg(pgid, signal.SIGTERM)
            self.proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.log.close()
        try:
            self.watchdog.wait(10)   # it ends by itself once the group is gone
        except subprocess.TimeoutExpired:
            self.watchdog.kill()
        shutil.rmtree(self.temp, ignore_errors=True)
