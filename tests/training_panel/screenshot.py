"""Render the Training panel mid-run offscreen: ``python tests/training_panel/screenshot.py
[OUT.png]`` (default docs/training-panel.png). Trains a small real run on demo data."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SETTINGS = {"epochs": 20, "time_budget": 0, "batch_size": 2, "min_size": 128, "max_size": 128, "pretrained": "none",
            "workers": 0, "warmup_iters": 10, "val_fraction": 0.25, "lr": "0.02"}


async def scenario(controller, out: Path) -> None:
    from PySide6.QtWidgets import QApplication

    events: list[dict] = []
    controller.event_received.connect(lambda _r, e: events.append(e))
    panel = controller.panel
    panel.select_template("ssdlite320_mobilenet_v3_large")
    for k, v in SETTINGS.items():
        panel.form.set_value(k, v)
    panel.train_button.click()
    while sum(e["event"] == "metrics" for e in events) < 8:
        await asyncio.sleep(0.1)
        if not controller.is_training():
            raise RuntimeError(panel.status.text())
    while events[-1]["event"] != "progress":  # mid-epoch: the bar shows step, speed, ETA
        await asyncio.sleep(0.05)
    QApplication.processEvents()
    panel.window().grab().save(str(out))
    print(f"saved {out}")
    controller.cancel()
    while controller.is_training():
        await asyncio.sleep(0.05)


def main() -> None:
    import qasync
    from PySide6.QtWidgets import QApplication, QMainWindow

    from app.runs.controller import TrainingController
    from app.shell.demo import make_demo

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "training-panel.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as tmp:
        project = make_demo(Path(tmp) / "proj", n_images=24, video=False)
        window = QMainWindow()
        controller = TrainingController(window, project)
        window.setCentralWidget(controller.panel)
        window.setWindowTitle("Training")
        window.resize(620, 860)
        window.show()
        with loop:
            loop.run_until_complete(scenario(controller, out))
        project.close()


if __name__ == "__main__":
    main()
