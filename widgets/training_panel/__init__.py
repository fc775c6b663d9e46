"""The Training panel (pure Qt): template, generated hyperparameter form, data
summary, device, live progress/charts/log, run history."""

from widgets.training_panel.charts import RunCharts
from widgets.training_panel.form import HParamForm
from widgets.training_panel.history import RunHistory
from widgets.training_panel.panel import TrainingPanel, summarise_event

__all__ = ["HParamForm", "RunCharts", "RunHistory", "TrainingPanel", "summarise_event"]
