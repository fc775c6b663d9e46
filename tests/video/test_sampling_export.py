"""Frame sampling specs and the export of sampled video frames (COCO, VOC, YOLO)."""

from __future__ import annotations

import json

import cv2
import pytest

from app.store import sampling
from app.store.exporter import ExportError, export_project
from app.store.tracks import rebuild_interpolation
from tests.video import clips


def test_specs(video_project):
    p = video_project
    assert sampling.sample_frames(p, 1) == []                       # default: frames with boxes
    p.boxes.add_one(1, 1, 0, 0, 10, 10, frame=7, track_id=1)
    p.boxes.add_one(1, 1, 0, 0, 10, 10, frame=9, track_id=1)
    p.boxes.add_one(1, 1, 0, 0, 10, 10, frame=5, source="predicted")       # predictions don't count
    rebuild_interpolation(p, 1, 1)
    assert sampling.sample_frames(p, 1) == [7, 8, 9]
    assert sampling.sample_frames(p, 1, {"mode": "every", "step": 30}) == [0, 30, 60]
    assert sampling.sample_frames(p, 1, {"mode": "every", "step": 40, "start": 5}) == [5, 45, 85]
    assert sampling.sample_frames(p, 1, {"mode": "range", "start": 80, "end": 200, "step": 4}) == \
        [80, 84, 88]
    assert sampling.sample_frames(p, 1, {"mode": "none"}) == []
    p.frames.set_sampling(1, {"mode": "range", "start": 3, "end": 5})
    assert p.frames.sampling(1) == {"mode": "range", "start": 3, "end": 5}
    assert sampling.dataset_frames(p) == {1: [3, 4, 5]}
    p.frames.set_sampling(1, None)
    assert sampling.dataset_frames(p) == {1: [7, 8, 9]}


@pytest.mark.parametrize("spec", [{"mode": "often"}, {"mode": "every", "step": 0},
                                  {"mode": "range", "start": 5}, {"mode": "range", "start": 9, "end": 3},
                                  {"mode": "every", "step": "2"}])
def test_bad_specs(spec):
    with pytest.raises(ValueError):
        sampling.normalize(spec)


def test_descriptions():
    assert sampling.describe(None) == "frames with boxes"
    assert sampling.describe({"mode": "every", "step": 10}) == "every 10th frame"
    assert sampling.describe({"mode": "every", "step": 2, "start": 4}) == "every 2nd frame from 4"
    assert sampling.describe({"mode": "range", "start": 30, "end": 90, "step": 3}) == \
        "frames 30–90, every 3rd frame"


def _labelled(p):
    p.boxes.add_one(1, 1, 10, 10, 50, 50, frame=10, track_id=1)
    p.boxes.add_one(1, 1, 40, 40, 80, 80, frame=40, track_id=1)
    rebuild_interpolation(p, 1, 1)
    p.frames.set_sampling(1, {"mode": "every", "step": 10})


def test_coco_export_of_sampled_frames_loads_in_pycocotools(video_project, tmp_path):
    from pycocotools.coco import COCO

    _labelled(video_project)
    video_project.status.set_mark(1, 0, "empty")       # frame 0: labelled, no objects
    counts = export_project(video_project, tmp_path / "labelled", "coco")
    assert (counts["images"], counts["negatives"], counts["left_out"]) == (5, 1, 4)
    counts = export_project(video_project, tmp_path / "coco", "coco", include_unlabelled=True)
    assert counts["images"] == 9 and counts["boxes"] == 4 and counts["unlabelled"] == 4
    coco = COCO(str(tmp_path / "coco" / "annotations.json"))
    assert len(coco.getImgIds()) == 9 and len(coco.getAnnIds()) == 4
    by_name = {im["file_name"]: im for im in coco.loadImgs(coco.getImgIds())}
    assert [n for n, im in sorted(by_name.items()) if im.get("kestrel_status") == "unlabelled"] == \
        [f"mp4v/frame_0000{f}.jpg" for f in (50, 60, 70, 80)]
    im20 = by_name["mp4v/frame_000020.jpg"]
    (ann,) = coco.loadAnns(coco.getAnnIds(imgIds=[im20["id"]]))
    assert ann["bbox"] == pytest.approx([20, 20, 40, 40])             # interpolated, x y w h
    for name in by_name:
        frame = int(name[-10:-4])
        img = cv2.imread(str(tmp_path / "coco" / "images" / name))
        assert img.shape == (120, 160, 3) and clips.read_index(img) == frame


@pytest.mark.parametrize("fmt", ["voc", "yolo"])
def test_voc_and_yolo_exports_write_the_frames(video_project, tmp_path, fmt):
    _labelled(video_project)
    export_project(video_project, tmp_path / fmt, fmt,
                   frames={1: [10, 25]})                                # explicit frames win
    images = sorted((tmp_path / fmt).rglob("*.jpg"))
    assert [i.name for i in images] == ["frame_000010.jpg", "frame_000025.jpg"]
    assert [clips.read_index(cv2.imread(str(i))) for i in images] == [10, 25]


def test_export_of_a_broken_video_reports_it(video_project, tmp_path):
    _labelled(video_project)
    video_project.media.path(1).write_bytes(b"not a video any more")
    with pytest.raises(ExportError, match="mp4v.mp4"):
        export_project(video_project, tmp_path / "out", "coco")
    assert not (tmp_path / "out").exists()


def test_export_summary_is_json(video_project, tmp_path):
    _labelled(video_project)
    counts = export_project(video_project, tmp_path / "y", "yolo", frames={1: []})
    assert json.loads(json.dumps(counts))["images"] == 0
