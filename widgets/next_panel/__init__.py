"""The Label next dock: the queue (with pre-labels and keep training), probable label
errors and near-duplicates, as three tabs. Plain data in, intents out."""
from __future__ import annotations

from PySide6.QtWidgets import QTabWidget

from widgets.next_panel.checks import DuplicatesTab, SuspectsTab
from widgets.next_panel.queue_tab import QueueTab

__all__ = ["NextPanel", "QueueTab", "SuspectsTab", "DuplicatesTab"]


class NextPanel(QTabWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.queue = QueueTab()
        self.suspects = SuspectsTab()
        self.duplicates = DuplicatesTab()
        self.addTab(self.queue, "Next")
        self.addTab(self.suspects, "Check labels")
        self.addTab(self.duplicates, "Near-duplicates")
