"""The Compute choice of the Training tab, without a cluster: where Ray is missing it
says how to install it and Train is refused; a cluster that does not answer is named
with the reason; the choice is kept in the project."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.training_panel.helpers import TINY, set_values, wait_until


def _choose_cluster(qtbot, box) -> None:
    box.choice.setFocus()
    qtbot.keyClick(box.choice, Qt.Key_Down)
    assert box.is_cluster()


def test_without_ray_the_choice_explains_how_to_install_it(qtbot, project, loop, trainer_env,
                                                           monkeypatch):
    import app.runs.compute as compute
    from app.runs.controller import TrainingController

    monkeypatch.setattr(compute, "ray_installed", lambda: False)
    c = TrainingController(None, project, probe_devices=False)
    qtbot.addWidget(c.panel)
    c.panel.show()
    box = c.panel.compute
    set_values(c.panel, TINY)
    _choose_cluster(qtbot, box)
    assert 'pip install -e ".[cluster]"' in box.info.text()
    assert not box.cluster_rows.isEnabled()
    qtbot.mouseClick(c.panel.train_button, Qt.LeftButton)
    assert 'pip install -e ".[cluster]"' in c.panel.status.text()
    assert project.runs.all() == [] and not c.is_training()


def test_an_unreachable_cluster_is_named_and_the_choice_is_kept(qtbot, project, loop, trainer_env):
    pytest.importorskip("ray")
    from app.cluster.settings import compute_target
    from app.runs.controller import TrainingController
    from tests.cluster.proxy import free_port

    c = TrainingController(None, project, probe_devices=False)
    qtbot.addWidget(c.panel)
    c.panel.show()
    box = c.panel.compute
    _choose_cluster(qtbot, box)
    address = f"http://127.0.0.1:{free_port()}"
    qtbot.keyClicks(box.address, address)
    qtbot.keyClick(box.workers, Qt.Key_Up)
    qtbot.mouseClick(box.check_button, Qt.LeftButton)
    wait_until(loop, lambda: "cannot reach" in box.info.text(), 60)
    assert address in box.info.text()
    assert compute_target(project) == {"address": address, "workers": 3, "storage": None}
    again = TrainingController(None, project, probe_devices=False)   # the project reopened
    qtbot.addWidget(again.panel)
    assert again.panel.compute.target() == {"address": address, "workers": 3, "storage": None}
    box.choice.setFocus()
    qtbot.keyClick(box.choice, Qt.Key_Up)                            # back to this machine
    assert compute_target(project) is None
