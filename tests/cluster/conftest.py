"""A real local Ray cluster for the cluster tests: one head started by the session
(CPU only, 2 CPUs, small object store), every port chosen free, stopped at the end
even when tests fail. Skipped only where Ray is not installed.

The head runs as ``ray start --head --block`` in a process group of its own; it is
stopped by signalling that group (never ``ray stop``, which ends every Ray process of
the user on the machine, other people's clusters included)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[cluster]')")

from tests.cluster.proxy import Proxy, free_port  # noqa: E402

HEAD_START_S = 120


class Head:
    def __init__(self):
        self.temp = Path(tempfile.mkdtemp(prefix="kr"))   # short: socket paths are limited
        self.dashboard_port = free_port()
        ports = {"--port": free_port(), "--dashboard-port": self.dashboard_port,
                 "--ray-client-server-port": free_port(), "--node-manager-port": free_port(),
                 "--object-manager-port": free_port(), "--metrics-export-port": free_port(),
                 "--dashboard-agent-listen-port": free_port(),
                 "--dashboard-agent-grpc-port": free_port(),
                 "--runtime-env-agent-port": free_port()}
        argv = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
                "--num-cpus=2", "--num-gpus=0", "--object-store-memory=200000000",
                "--include-dashboard=true", "--dashboard-host=127.0.0.1",
                "--node-ip-address=127.0.0.1", "--disable-usage-stats",
                f"--temp-dir={self.temp}", *[f"{k}={v}" for k, v in ports.items()]]
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "RAY_USAGE_STATS_ENABLED": "0",
               "OMP_NUM_THREADS": "1", "RAY_DEDUP_LOGS": "0"}
        env.pop("RAY_ADDRESS", None)
        self.log = open(self.temp / "head.log", "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
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
        try:
            pgid = os.getpgid(self.proc.pid)
        except ProcessLookupError:
            pgid = None
        if pgid is not None:
            try:
                os.killpg(pgid, signal.SIGTERM)
                self.proc.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()
        shutil.rmtree(self.temp, ignore_errors=True)


@pytest.fixture(scope="session")
def ray_head():
    head = Head()
    try:
        head.wait_ready()
        yield head
    finally:
        head.stop()


@pytest.fixture
def proxy(ray_head):
    """A TCP proxy in front of the head's dashboard that a test can cut and restore."""
    p = Proxy(ray_head.dashboard_port)
    yield p
    p.close()


@pytest.fixture
def cluster_env(monkeypatch, tmp_path):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))


@pytest.fixture
def project(tmp_path):
    from app.shell.demo import make_demo

    p = make_demo(tmp_path / "proj", n_images=8, video=False)
    yield p
    p.close()
