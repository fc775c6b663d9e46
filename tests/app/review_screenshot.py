"""Render the window with a model's predictions over a photo, offscreen, at the default
1400x900: ``python tests/app/review_screenshot.py PROJECT OUT.png NAME [--review]``.

PROJECT needs an active detector run whose predictions are stored (``kestrel predict``),
so no model is loaded here. ``--review`` turns review on and orders the browser by
most mistakes. The README's pictures of predictions on real photos were made so.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication, QDockWidget

    from app.shell.window import MainWindow
    from app.store.project import Project

    folder, out, name = sys.argv[1:4]
    review = "--review" in sys.argv
    app = QApplication.instance() or QApplication([])
    project = Project.open(folder)
    w = MainWindow(project)
    w.resize(1400, 900)
    w.show()

    def settle(rounds: int = 4) -> None:
        for _ in range(rounds):
            app.processEvents()
            QThreadPool.globalInstance().waitForDone(3000)
            w.review.background.idle(10)
        app.processEvents()

    {d.windowTitle(): d for d in w.findChildren(QDockWidget)}["Predictions"].raise_()
    panel = w.review.panel
    if review:
        panel.review.setChecked(True)
        panel.sort.setChecked(True)
    media = next(m.id for m in project.media.list() if m.name == name)
    w.open_media(media)
    settle()
    w.canvas.fit_to_window()
    settle()
    print(f"{len(w.review.overlay.visible_boxes())} predictions shown, "
          f"{w.review.overlay.captions_shown} captions; "
          f"statuses {sorted(str(b.status) for b in w.review.overlay.visible_boxes())}")
    w.grab().save(out)
    print(f"saved {out}")
    w.close()
    project.close()


if __name__ == "__main__":
    main()
