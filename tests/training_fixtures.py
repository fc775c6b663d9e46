"""Fixtures shared by the Training panel and the cluster tests (their conftests
import them): a qasync loop driving Qt and asyncio, one compute thread per trainer
with an empty weights cache, and a small generated project."""

from __future__ import annotations

import asyncio

import pytest


@pytest.fixture
def loop(qapp):
    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def trainer_env(monkeypatch, tmp_path):
    """One compute thread per trainer (two shared cores) and an empty weights cache."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))


@pytest.fixture
def project(tmp_path):
    from app.shell.demo import make_demo

    p = make_demo(tmp_path / "proj", n_images=8, video=False)
    yield p
    p.close()
