"""The Training tab's first click: which template to preselect, which to mark as a
random start, and whether a run that would start from random weights may go ahead."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QMessageBox

from app.runs import defaults
from training.choice import start_info
from training.templates import list_templates
from training.weights import Policy


class FirstClick:
    """Drives the panel's template choice; the controller tells it about devices and data."""

    def __init__(self, panel, project, host, weights=None,
                 ask_random_start: Callable[[str], bool] | None = None):
        self.panel, self.project, self.host = panel, project, host
        self.weights = weights    # app.runs.weights.WeightsController (the setting), or None
        # Train with a template that would start from random weights? True = train.
        self.ask_random_start = ask_random_start or self._ask_random_box
        self.kind = "cpu"         # the device a run would use: "cpu" or "gpu"
        self.hand_picked = False  # the user chose a template: the default stays away
        self._preselecting = False
        self.choice = None        # what was chosen and why (tests, the status line)

    def policy(self) -> Policy:
        return self.weights.policy() if self.weights is not None else Policy.from_env()

    def template_rows(self):
        return defaults.template_rows(self.kind, self.policy())

    def preselect(self, boxes: int) -> None:
        """The template that will really work here, for the task the labels call for."""
        choice = defaults.first_choice(boxes, self.project.tags.counts(), self.kind,
                                       self.policy())
        self._preselecting = True
        try:
            self.panel.select_template(choice.template)
        finally:
            self._preselecting = False
        self.choice = choice
        self.panel.status.setText(f"suggested: {choice.reason}")

    def template_picked(self, _name: str) -> None:
        if not self._preselecting:
            self.hand_picked = True

    def device_changed(self, device: str, boxes: int, training: bool) -> None:
        kind = "cpu" if device == "cpu" else "gpu"
        if kind == self.kind:
            return
        self.kind = kind
        policy = self.policy()
        self.panel.set_suggested({s.name: defaults.suggested_for(s.name, kind, policy)
                                  for s in list_templates()})
        if not self.hand_picked and not training:
            self.preselect(boxes)

    def weights_changed(self) -> None:
        """A weights file arrived or the download setting changed: re-mark templates."""
        policy = self.policy()
        self.panel.set_marks({s.name: defaults.template_marks(s.name, policy)
                              for s in list_templates()})

    def start_accepted(self, spec, pretrained: str | None) -> bool:
        """Missing weights: ask once whether they may be downloaded; a run that would
        still start from random weights goes ahead only when the user says so."""
        info = start_info(spec, pretrained, self.policy())
        if info.random and self.weights is not None and not self.weights.decided():
            self.weights.ask_download_once(f"{spec.name} {info.note}.")
            info = start_info(spec, pretrained, self.policy())
        if not info.random:
            return True
        if self.ask_random_start(f"{spec.name} {info.note}: the model would learn from "
                                 "scratch and be much weaker than one started from "
                                 "pretrained weights. Get them in Model → Weights…, or pick "
                                 "a template not marked “random start”.\n\nTrain anyway?"):
            return True
        self.panel.status.setText(f"not started: {spec.name} would start from random weights")
        return False

    def _ask_random_box(self, text: str) -> bool:
        answer = QMessageBox.warning(self.host, "Random start", text,
                                     QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes
