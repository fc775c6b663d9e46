"""One log line per trainer event, for detectors and embedders alike."""

from widgets.training_panel.panel import summarise_event


def test_finished_line_names_the_best_metric_of_either_task():
    detector = {"event": "finished", "best_map": 0.512, "epoch": 3}
    embedder = {"event": "finished", "best_map": None, "best_precision_at_1": 0.875, "epoch": 3}
    assert summarise_event(detector) == "finished, best mAP 0.512"
    assert summarise_event(embedder) == "finished, best precision@1 0.875"
    assert summarise_event({"event": "finished", "best_map": None, "epoch": 1}) == "finished"
