"""A clip not labelled yet in ``kestrel next``: one frame a second is a candidate, named
by its frame, and a batch takes a quarter of its pictures from one clip at most, none close to another."""
from __future__ import annotations

import json

import cv2
import numpy as np

from app.shell.cli import main
from app.store.project import Project

FPS = 10


def test_frames_of_a_clip_are_candidates_and_kept_apart(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))     # cold start: thumbnails
    rng = np.random.default_rng(0)
    folder = tmp_path / "media"
    folder.mkdir()
    clip = folder / "clip.avi"
    out = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (128, 96))
    for second in range(12):                 # a new scene every second, 12 s
        scene = np.kron(rng.integers(0, 255, (6, 8, 3)), np.ones((16, 16, 1))).astype(np.uint8)
        for _ in range(FPS):
            out.write(scene)
    out.release()
    for i in range(6):
        img = np.kron(rng.integers(0, 255, (6, 8, 3)), np.ones((16, 16, 1))).astype(np.uint8)
        cv2.imwrite(str(folder / f"im{i}.png"), img)
    with Project.create(tmp_path / "proj") as p:
        report = p.media.import_files([folder])
        assert not report.skipped, report.skipped
    assert main(["next", str(tmp_path / "proj"), "--run", "none", "-n", "18", "--json", "--quiet",
                 "--random-share", "0"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert len({(i["media_id"], i["frame"]) for i in got["items"]}) == 18     # each once
    got["items"] = got["items"][:10]
    assert got["candidates"] == 12 + 6            # frames 0, 10, …, 110 and the images
    frames = [i["frame"] for i in got["items"] if i["name"].startswith("clip.avi")]
    assert all(i["name"] == f"clip.avi frame {i['frame']}" for i in got["items"]
               if i["frame"])
    # the first batch (20) takes at most 20 // 4 frames of one clip: the images come in
    assert 1 <= len(frames) <= 5
    assert all(abs(a - b) >= 2 * FPS for a in frames for b in frames if a != b)
    assert all(f % FPS == 0 for f in frames)
