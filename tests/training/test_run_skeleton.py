"""The one run skeleton: stop signals (SIGBREAK where it exists), task recipes, the
shared image reader."""
import os
import signal

import numpy as np
import pytest
from PIL import Image

from training.run import _install_signals, stop_signals, teardown


def test_stop_signals_include_sigbreak_where_it_exists(monkeypatch):
    assert signal.SIGINT in stop_signals() and signal.SIGTERM in stop_signals()
    if not hasattr(signal, "SIGBREAK"):  # POSIX: stand a catchable signal in for it
        monkeypatch.setattr(signal, "SIGBREAK", signal.SIGUSR1, raising=False)
    asked = []
    restore = _install_signals(asked.append)
    try:
        assert signal.SIGBREAK in restore
        os.kill(os.getpid(), signal.SIGBREAK)
    finally:
        teardown(restore, 1)
    assert asked == [signal.Signals(signal.SIGBREAK).name]
    assert signal.getsignal(signal.SIGBREAK) is restore[signal.SIGBREAK]


def test_each_task_has_a_recipe_and_unknown_tasks_are_refused():
    from training.detection.recipe import DetectionRecipe
    from training.embedding.recipe import EmbeddingRecipe
    from training.recipe import recipe_for

    assert isinstance(recipe_for("detector"), DetectionRecipe)
    assert isinstance(recipe_for("embedder"), EmbeddingRecipe)
    assert recipe_for("detector").score_keys == ("map", "map50")
    with pytest.raises(ValueError, match="no training recipe for task 'segmenter'"):
        recipe_for("segmenter")


def test_unknown_template_is_a_failed_event(tmp_path):
    import io
    import json

    from training.events import Emitter
    from training.run import TrainConfig, run_train

    sink = io.StringIO()
    rc = run_train(TrainConfig(tmp_path / "c.json", tmp_path, "no_such_template", tmp_path),
                   Emitter(sink))
    events = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert rc == 1 and [e["event"] for e in events] == ["failed"]
    assert "no_such_template" in events[0]["message"]


def test_read_rgb_applies_exif_orientation(tmp_path):
    from training.images import read_rgb

    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :10] = (255, 0, 0)                    # red on the left
    exif = Image.Exif()
    exif[0x0112] = 6                                # "rotate 90 CW to display"
    Image.fromarray(pixels).save(tmp_path / "r.jpg", exif=exif, quality=95)
    out = read_rgb(tmp_path / "r.jpg")
    assert out.shape == (40, 20, 3) and out.dtype == np.uint8
    assert out[:10, :, 0].mean() > 200 and out[-10:, :, 0].mean() < 50  # red now on top
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    with pytest.raises(OSError):
        read_rgb(tmp_path / "bad.jpg")
