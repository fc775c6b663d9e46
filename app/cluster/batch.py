"""Batch jobs on a Ray cluster — *Predict all* (app/predictions/cluster.py) and
embedding (app/search/cluster.py) — written back into the project as the local paths
write them (``project.predictions.store``, ``project.embeddings.put``).

What is not done yet is planned by the caller, exactly as locally; its pictures
travel with the job: image files as they are (hard links into a scratch folder), video frames
decoded here into lossless PNG, the checkpoint beside them. On the cluster
``training.cluster.batch`` maps the model over them with Ray Data; its answers are
stored as they arrive (so a cancelled or broken job keeps what was done) and progress
is reported as locally. Blocking: call it from a worker thread with that thread's own
Project, or from the command line.
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from app.cluster import jobs
from app.cluster.connect import ClusterError, describe
from training.cluster import wire

Progress = Callable[[int, int], None]


class Staging:
    """A scratch folder of pictures, items and the model: the job's working dir."""

    def __init__(self, project, model: Path):
        from app.store.pictures import PictureReader

        self.project = project
        self.dir = Path(tempfile.mkdtemp(prefix="kestrel-cluster-"))
        (self.dir / "pictures").mkdir()
        jobs.hard_link_or_copy(model, self.dir / "model.pt")
        self.reader = PictureReader(project)
        self.files: dict[tuple[int, int], str] = {}
        self.items: list[str] = []

    def add(self, media_id: int, frame: int, box=None) -> int:
        """One item to compute (a picture, or a box of it); its index."""
        key = (media_id, frame)
        if key not in self.files:
            media = self.project.media.get(media_id)
            if media.kind == "video":
                import cv2

                name = f"pictures/{media_id}_{frame}.png"
                rgb = self.reader.read(media_id, frame)
                if not cv2.imwrite(str(self.dir / name), np.ascontiguousarray(rgb[..., ::-1])):
                    raise ClusterError(f"could not write frame {frame} of {media.name}")
            else:
                src = self.project.media.path(media)
                name = f"pictures/{media_id}{Path(src).suffix.lower()}"
                jobs.hard_link_or_copy(Path(src), self.dir / name)
            self.files[key] = name
        self.items.append(wire.dumps({"i": len(self.items), "file": self.files[key],
                                      "box": None if box is None else [float(v) for v in box]}))
        return len(self.items) - 1

    def spec(self, task: str, workers: int, gpu: bool, batch_size: int,
             extra: list[str]) -> jobs.JobSpec:
        (self.dir / "items.jsonl").write_text("\n".join(self.items) + "\n", encoding="utf-8")
        argv = ["python", "-m", "training.cluster.batch", task, "--model", "model.pt",
                "--items", "items.jsonl", "--workers", str(workers),
                "--batch-size", str(batch_size), *(["--gpu"] if gpu else []), *extra]
        return jobs.JobSpec(shlex.join(argv), self.dir)

    def close(self) -> None:
        self.reader.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_job(address: str, spec: jobs.JobSpec, on_result: Callable[[dict], None],
             progress: Progress | None, cancelled: Callable[[], bool] | None) -> bool:
    """Submit, store answers as they come; True when the job was cancelled."""
    job_id = jobs.submit(address, spec)
    reader = jobs.JobLogReader(address, job_id)
    tail: list[str] = []
    stopping = []

    def line(text: str) -> None:
        if cancelled is not None and cancelled() and not stopping:
            stopping.append(True)
            threading.Thread(target=jobs.stop, args=(address, job_id), daemon=True).start()
            reader.stop()
            return
        if stopping:
            return
        kind, obj = wire.parse(text)
        if kind == "result":
            on_result(obj)
        elif kind == "progress":
            if progress is not None:
                progress(obj["done"], obj["total"])
        elif kind == "log" and obj.strip():
            tail.append(obj)
            del tail[:-20]
    state = reader.run(line)
    if stopping:
        return True
    if state != "SUCCEEDED":
        raise ClusterError(f"the Ray job {job_id} ended {state}: {reader.message}\n"
                           + "\n".join(tail[-10:]))
    return False


def has_gpu(address: str) -> bool:
    return describe(address).gpus >= 1
