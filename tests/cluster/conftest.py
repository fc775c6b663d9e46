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
from tests.training_fixtures import loop, project, trainer_env  # noqa: E402,F401


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
