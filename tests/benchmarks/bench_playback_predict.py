"""Playing video with a model slower than the clip (run: python tests/benchmarks/bench_playback_predict.py).

A 25 fps clip plays for 4 s while every shown frame is offered to a stub model that
takes 200 ms per frame (5 predictions/s) on the worker thread. Display must keep
25 frames/s: the model gets the newest frame when free, never holds playback up.
"""
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.predictions.worker import PredictWorker  # noqa: E402
from app.video.player import VideoPlayer  # noqa: E402


class Slow:
    class_names = ["x"]

    def predict(self, frames, bgr=False):
        time.sleep(0.2)
        return [None for _ in frames]


def main(seconds: float = 4.0) -> None:
    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp())
    clip = folder / "clip.mp4"
    out = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 25, (640, 360))
    for i in range(int(25 * (seconds + 2))):
        frame = np.full((360, 640, 3), i % 255, np.uint8)
        out.write(frame)
    out.release()
    player = VideoPlayer()
    player.open(clip)
    worker = PredictWorker(lambda: Slow())
    answers, shown = [], []
    worker.answered.connect(lambda req, det, s: answers.append(req.frame))
    player.frame_ready.connect(lambda i, img: worker.submit(1, i, img))
    player.frame_shown.connect(lambda i: shown.append((time.monotonic(), i)))
    player.request(0)
    player.set_playing(True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        app.processEvents()
        time.sleep(0.001)
    player.set_playing(False)
    per_second = [sum(1 for t, _ in shown if s <= t - t0 < s + 1) for s in range(int(seconds))]
    frames = [i for _, i in shown]
    skipped = sum(b - a - 1 for a, b in zip(frames, frames[1:]) if b > a + 1)
    print(f"clip 25 fps, model 200 ms/frame, {seconds:.0f} s of playback")
    print(f"frames shown per second: {per_second}  (skipped by display: {skipped})")
    print(f"model answers: {len(answers)} ({len(answers) / seconds:.1f}/s), "
          f"requests dropped (latest wins): {worker.dropped}")
    worker.stop()
    player.close()


if __name__ == "__main__":
    main()
