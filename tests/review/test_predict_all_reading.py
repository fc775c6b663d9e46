"""Predict all reads each file once, a batch ahead, at the model's input size, in
batches of one shape, and stores what the model answers."""
import numpy as np
from PIL import Image

from app.predictions import core, prefetch
from tests.review.conftest import Det
from training.sizing import InputFit


class FitModel:
    """Behind the Predictor interface, with an input size; records what it is given."""

    class_names = ["cat", "dog"]
    input_fit = InputFit(50, 80)

    def __init__(self):
        self.batches = []

    def predict(self, frames, sizes=None, **_kw):
        self.batches.append([(f.shape[:2], s) for f, s in zip(frames, sizes)])
        return [Det(np.array([[0, 0, 10, 10]], np.float32), np.array([0]),
                    np.array([0.9], np.float32), self.class_names) for _ in frames]


def test_predict_all_reads_each_file_once_reduced_and_batched_by_shape(tmp_path, monkeypatch):
    from app.store.project import Project

    (tmp_path / "imgs").mkdir()
    for i in range(6):
        w, h = (400, 300) if i % 2 else (300, 400)     # landscape and portrait alternate
        Image.new("RGB", (w, h), (i * 30, 0, 0)).save(tmp_path / "imgs" / f"{i}.jpg")
    Image.new("RGB", (40, 30)).save(tmp_path / "imgs" / "tiny.png")
    project = Project.create(tmp_path / "proj")
    try:
        project.media.import_files([tmp_path / "imgs"])
        run_id = project.runs.add(name="m", task="detector", template="stub", run_dir="")
        opened = []
        real = prefetch.FrameReader.read

        def counting(self, src):
            opened.append(src.path.name)
            return real(self, src)
        monkeypatch.setattr(prefetch.FrameReader, "read", counting)
        model = FitModel()
        items = core.all_items(project)
        assert core.predict_items(project, run_id, model, items, batch_size=3) == 7
        assert sorted(opened) == sorted(f"{i}.jpg" for i in range(6)) + ["tiny.png"]
        for batch in model.batches:           # one orientation per batch: less padding
            assert len({h > w for (h, w), _ in batch}) == 1, batch
        seen = {shape: size for batch in model.batches for shape, size in batch}
        assert seen[(67, 50)] == (300, 400) and seen[(50, 67)] == (400, 300)
        assert seen[(30, 40)] is None                 # already small: read whole
        assert all(project.predictions.has(run_id, m, f) for m, f in items)
    finally:
        project.close()


def test_predict_all_keeps_only_a_few_videos_open(tmp_path):
    """A project of many clips: the reader closes the oldest decoder, and a clip read
    again reopens and still gives the right frame."""
    from tests.video.clips import read_index, write_cv2

    clips = [write_cv2(tmp_path / f"c{i}.mp4", "mp4v", frames=8, size=(64, 64)) for i in range(3)]
    srcs = [prefetch.Source(i, path, True, 5, 1.0) for i, path in enumerate(clips)]
    with prefetch.FrameReader(max_open=2) as reader:
        for src in srcs:
            reader.read(src)
        assert list(reader._videos) == [1, 2]
        pixels, size = reader.read(srcs[0])
        assert list(reader._videos) == [2, 0] and size is None
        assert read_index(pixels[..., ::-1]) == 5
