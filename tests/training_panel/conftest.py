"""Fixtures for the Training panel tests: the shared ones (tests.training_fixtures)
and a Training controller in a window."""

from __future__ import annotations

import pytest

from tests.training_fixtures import loop, project, trainer_env  # noqa: F401


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
