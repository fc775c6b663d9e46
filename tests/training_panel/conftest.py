"""Fixtures for the Training panel tests: a qasync loop driving Qt and asyncio, a
small generated project, and tiny download-free training settings."""

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


@pytest.fixture
def controller(qtbot, project, loop, trainer_env):
    from PySide6.QtWidgets import QMainWindow

    from app.runs.controller import TrainingController

    window = QMainWindow()
    qtbot.addWidget(window)
    c = TrainingController(window, project, probe_devices=False)
    window.setCentralWidget(c.panel)
    c.answers = []  # what the injected close question answers, in order
    c.ask_stop = lambda text: c.answers.pop(0)
    yield c
    if c.is_training():  # a failed test must not leave a trainer behind
        c.stop_and_wait(30)
