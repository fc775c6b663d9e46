"""A real local Ray cluster for the cluster tests: one head started by the session
(CPU only, 2 CPUs, small object store), every port chosen free, stopped at the end
even when tests fail. Skipped only where Ray is not installed.

The head runs as ``ray start --head --block`` in a process group of its own; it is
stopped by signalling that group (never ``ray stop``, which ends every Ray process of
the user on the machine, other people's clusters included)."""

from __future__ import annotations

import pytest

pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[cluster]')")

from tests.cluster.head import Head  # noqa: E402
from tests.cluster.proxy import Proxy  # noqa: E402


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
