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


def test_read_ahead_overlaps_only_when_asked_and_gives_the_same_frames(tmp_path, monkeypatch):
    """On an accelerator the next batch is read on a thread while the model works; on
    the CPU in turn on the caller's thread. Either way the same frames, in order."""
    import threading

    paths = []
    for i in range(5):
        paths.append(tmp_path / f"{i}.png")
        Image.new("RGB", (20, 10), (i * 40, 0, 0)).save(paths[-1])
    batches = [[prefetch.Source(i, p, False, 0, 2.0) for i, p in enumerate(paths[:3])],
               [prefetch.Source(i, p, False, 0, 2.0) for i, p in enumerate(paths[3:], 3)]]
    threads = []
    real = prefetch.FrameReader.read

    def noting(self, src):
        threads.append(threading.current_thread().name)
        return real(self, src)
    monkeypatch.setattr(prefetch.FrameReader, "read", noting)
    out = {}
    for overlap in (False, True):
        threads.clear()
        with prefetch.FrameReader() as reader:
            out[overlap] = [[int(px[0, 0, 0]) for px, _ in b]
                            for b in prefetch.read_ahead(batches, reader, overlap)]
        on_caller = {t == threading.current_thread().name for t in threads}
        assert on_caller == {not overlap}, (overlap, threads)
    assert out[False] == out[True] == [[0, 40, 80], [120, 160]]


def test_predict_all_overlaps_reading_on_an_accelerator_only(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from app.store.project import Project

    (tmp_path / "imgs").mkdir()
    for i in range(3):
        Image.new("RGB", (40, 30)).save(tmp_path / "imgs" / f"{i}.png")
    asked = []
    real = prefetch.read_ahead
    monkeypatch.setattr(prefetch, "read_ahead",
                        lambda b, r, overlap=True: asked.append(overlap) or real(b, r, overlap))
    project = Project.create(tmp_path / "proj")
    try:
        project.media.import_files([tmp_path / "imgs"])
        for device in ("cpu", "cuda"):
            run_id = project.runs.add(name=device, task="detector", template="stub", run_dir="")
            model = FitModel()
            model.device = SimpleNamespace(type=device)
            assert core.predict_items(project, run_id, model, core.all_items(project)) == 3
        assert asked == [False, True]
    finally:
        project.close()
