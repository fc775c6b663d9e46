"""Qt-free prediction plumbing shared by the window and ``kestrel predict``.

torch is imported only when a model is loaded (``load_model``), never at import.
A *model* is anything with ``class_names`` and ``predict(frames, bgr=...)`` returning
objects with ``boxes`` (xyxy), ``labels`` (index into class_names) and ``scores`` —
``training.predictor.Predictor``, or a stub in tests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable, Iterable

from app.runs.records import model_path
from app.tasks.torch_import import import_torch

Item = tuple[int, int]   # (media id, frame); frame 0 for images


class PredictError(RuntimeError):
    """A user-facing problem: no model for the run, an untrusted checkpoint, …"""


def load_model(project, run_id: int, device: str = "auto", score_threshold: float = 0.05):
    """The run's Predictor. A low threshold: the window filters with its slider."""
    path = model_path(project, run_id)
    if path is None:
        raise PredictError(f"run #{run_id} has no checkpoint (best.pt or last.pt) yet")
    import_torch()
    from training.checkpoint import CheckpointError
    from training.predictor import Predictor

    try:
        return Predictor(path, device=device, score_threshold=score_threshold)
    except CheckpointError as exc:
        raise PredictError(str(exc)) from None


def class_ids_for(project, class_names: list[str]) -> list[int | None]:
    """Project class id for each model class, matched by name; None where the project
    has no such class (its predictions are left out: adding a class is the user's
    decision, made through the document so that it can be undone)."""
    by_name = {c.name: c.id for c in project.classes.all()}
    return [by_name.get(name) for name in class_names]


def missing_classes(project, class_names: list[str]) -> list[str]:
    """Model classes the project lacks, in the model's order."""
    return [n for n, i in zip(class_names, class_ids_for(project, class_names)) if i is None]


def to_rows(det, class_ids: list[int | None]) -> list[tuple]:
    return [(class_ids[int(k)], *map(float, b), float(s))
            for b, k, s in zip(det.boxes, det.labels, det.scores)
            if class_ids[int(k)] is not None]


def all_items(project) -> list[Item]:
    """What "Predict all" covers: every image, and each video's dataset frames."""
    from app.store.sampling import dataset_frames

    frames = dataset_frames(project)
    items: list[Item] = []
    for m in project.media.list():
        items += [(m.id, 0)] if m.kind == "image" else [(m.id, f) for f in frames.get(m.id, [])]
    return items


def predict_items(project, run_id: int, model, items: Iterable[Item],
                  progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] = lambda: False, batch_size: int = 4) -> int:
    """Predict and store ``items`` (skipping those already cached); returns how many ran.

    Frames are read at the model's input size when it says what that is
    (``model.input_fit``: a Predictor), one batch ahead when the model is on an
    accelerator (app.predictions.prefetch), in turn on the CPU; batches hold
    frames of one shape (a detector pads a batch to its largest image) and each is
    stored in one transaction."""
    from app.predictions.prefetch import FrameReader, read_ahead, sources

    items = [i for i in items if not project.predictions.has(run_id, *i)]
    class_ids = class_ids_for(project, list(model.class_names))
    fit = getattr(model, "input_fit", None)
    srcs = sources(project, items)
    order = sorted(range(len(items)), key=lambda k: srcs[k].aspect)  # stable: frames in order
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    device = getattr(model, "device", None)
    overlap = device is not None and getattr(device, "type", str(device)) != "cpu"
    done = 0
    with FrameReader(fit) as reader:
        for chunk, frames in zip(chunks, read_ahead([[srcs[k] for k in c] for c in chunks],
                                                    reader, overlap)):
            if cancelled():
                break
            pixels, sizes = [f for f, _ in frames], [s for _, s in frames]
            dets = (model.predict(pixels, sizes=sizes) if fit is not None
                    else model.predict(pixels))
            with project.transaction():
                for k, det in zip(chunk, dets):
                    project.predictions.store(run_id, *items[k], to_rows(det, class_ids))
            done += len(chunk)
            if progress:
                progress(done, len(items))
    return done


def check_checkpoint(file: str | Path, timeout: float = 600.0) -> dict:
    """Load a detector checkpoint safely (weights only: pickled code is refused) and
    return what the run record needs. The load runs in a child process
    (``python -m training check``): importing torch and reading a large file would
    otherwise hold the interpreter lock for seconds, and an untrusted file is opened
    outside the app's own process."""
    import subprocess
    import sys

    from app.runs.records import child_env

    out = subprocess.run([sys.executable, "-m", "training", "check", "--checkpoint", str(file)],
                         capture_output=True, text=True, env=child_env(), timeout=timeout)
    try:
        answer = json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        lines = [line for line in out.stderr.strip().splitlines() if line.strip()]
        raise PredictError(f"{file}: cannot check this checkpoint "
                           f"({lines[-1] if lines else f'exit code {out.returncode}'})") from None
    if "error" in answer:
        raise PredictError(answer["error"])
    return answer


def record_checkpoint(project, file: str | Path, summary: dict) -> int:
    """Copy a checked checkpoint into a run folder and record a finished run for it."""
    file = Path(file)
    run_id = project.runs.add(name=f"imported {file.name}", task="detector",
                             template=summary["template"], run_dir="",
                             hyperparameters=summary["hparams"])
    run_dir = project.root / "runs" / f"{run_id:04d}-imported"
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(file, run_dir / "best.pt")
    project.runs.update(run_id, run_dir=project.stored_path(run_dir), status="finished",
                       message=f"imported from {file}",
                       dataset={"imported": str(file), "classes": summary["class_names"]})
    return run_id


def import_checkpoint(project, file: str | Path) -> int:
    return record_checkpoint(project, file, check_checkpoint(file))


def coco_results(project, run_id: int, items: Iterable[Item] | None = None) -> list[dict]:
    """Stored predictions as a COCO results list. Image and category ids are those of
    ``kestrel export --format coco --include-unlabelled`` of the same project (export
    order, classes 1..C; images not labelled yet have predictions too);
    video frames outside the dataset frames have no image there and are left out."""
    from app.store.dataset_io import export_labelset
    from app.store.sampling import dataset_frames

    _labelset, export_items = export_labelset(project, include_unlabelled=True,
                                              frames=dataset_frames(project))
    image_id = {(it.media_id, it.frame or 0): n for n, it in enumerate(export_items, 1)}
    cat_id = {c.id: n for n, c in enumerate(project.classes.all(), 1)}
    wanted = set(items) if items is not None else None
    out = []
    for media_id, frame in project.predictions.frames(run_id):
        if (wanted is not None and (media_id, frame) not in wanted) or (media_id, frame) not in image_id:
            continue   # a video frame outside the dataset frames has no image id
        for b in project.predictions.boxes(run_id, media_id, frame):
            out.append({"image_id": image_id[(media_id, frame)], "category_id": cat_id[b.class_id],
                        "bbox": [round(b.x1, 2), round(b.y1, 2), round(b.x2 - b.x1, 2),
                                 round(b.y2 - b.y1, 2)], "score": round(float(b.score or 0), 5)})
    return out


def write_coco_results(project, run_id: int, path: str | Path, items=None) -> int:
    results = coco_results(project, run_id, items)
    Path(path).write_text(json.dumps(results), encoding="utf-8")
    return len(results)
