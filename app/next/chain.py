"""Keep training (Qt-free, torch-free): when to fine-tune the active model again, with
what settings, and whether the new model is not worse than the one it starts from.

A fine-tune starts from the active run's checkpoint (``pretrained=<its best.pt>``)
with its template and settings and a shorter schedule, on every labelled picture
(the new ones included). The two models are compared fairly: both are evaluated
(``python -m training eval``) on the new run's validation pictures that the old
run did not train on, so neither has seen them. The new model becomes the active one
only when its mAP there is not worse. The chain is recorded in each run's dataset
record (``chain``: parent, new labelled pictures, both mAPs, the verdict), which the
run history shows.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from app.runs.records import DATASET_DIR, model_path
from app.store.exporter import COCO_FILE

COMPARE_FILE = "chain-compare.json"
_FRAME = re.compile(r"^(.*)/frame_(\d+)\.jpg$")


def run_images(project, run) -> list[dict] | None:
    """The COCO images of a run's exported dataset (None: no dataset, e.g. imported)."""
    if not run.run_dir:
        return None
    path = project.resolve(run.run_dir) / DATASET_DIR / COCO_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))["images"]


def picture_of(project):
    """file name in an export → (media id, frame), as the exporter names pictures."""
    by_name = {m.name: m for m in project.media.list()}
    by_stem = {Path(m.name).with_suffix("").as_posix(): m for m in by_name.values() if m.is_video}

    def find(name: str) -> tuple[int, int] | None:
        hit = _FRAME.match(name)
        if hit and hit.group(1) in by_stem:
            return by_stem[hit.group(1)].id, int(hit.group(2))
        return (by_name[name].id, 0) if name in by_name else None
    return find


def run_pictures(project, run) -> set[tuple[int, int]] | None:
    images = run_images(project, run)
    if images is None:
        return None
    find = picture_of(project)
    return {k for k in (find(im["file_name"]) for im in images) if k is not None}


def new_labelled(project, run) -> int:
    """Labelled pictures the run did not have in its dataset."""
    had = run_pictures(project, run)
    labelled = project.status.labelled_pictures()
    return len(labelled - had) if had is not None else len(labelled)


def fine_tune_overrides(project, parent_id: int, epochs: int) -> dict:
    parent = project.runs.get(parent_id)
    path = model_path(project, parent_id)
    if path is None:
        raise ValueError(f"run #{parent_id} has no checkpoint to fine-tune from")
    out = {k: v for k, v in (parent.hyperparameters or {}).items()}
    warmup = int(out.get("warmup_iters", 100) or 0)
    out.update(pretrained=str(path), epochs=str(epochs), warmup_iters=str(min(warmup, 20)))
    return out


def split_of(run, images: list[dict]) -> tuple[list[int], list[int]]:
    """The run's train and validation indices, as its trainer split them."""
    from training import hparams          # torch-free
    from training.split import dataset_split

    def value(name: str, default):
        v = (run.hyperparameters or {}).get(name)
        return type(default)(getattr(hparams.DetectorHParams(), name) if v is None else v)
    return dataset_split(images, value("val_fraction", 0.2), value("seed", 0))


def write_comparison(project, parent_id: int, child_id: int) -> tuple[Path, int] | None:
    """A COCO file of the child's validation images the parent did not train on
    (in the child's run folder); None when the child has no dataset."""
    parent, child = project.runs.get(parent_id), project.runs.get(child_id)
    child_doc_path = project.resolve(child.run_dir) / DATASET_DIR / COCO_FILE
    if not child_doc_path.is_file():
        return None
    doc = json.loads(child_doc_path.read_text(encoding="utf-8"))
    _train, val = split_of(child, doc["images"])
    parent_images = run_images(project, parent)
    seen: set = set()
    if parent_images is not None:
        p_train, _p_val = split_of(parent, parent_images)
        seen = {parent_images[i]["file_name"] for i in p_train}
    keep = [doc["images"][i] for i in val if doc["images"][i]["file_name"] not in seen]
    ids = {im["id"] for im in keep}
    subset = {**doc, "images": keep,
              "annotations": [a for a in doc["annotations"] if a["image_id"] in ids]}
    out = project.resolve(child.run_dir) / COMPARE_FILE
    out.write_text(json.dumps(subset), encoding="utf-8")
    return out, len(keep)


def eval_argv(project, run_id: int, coco: Path, images: Path) -> list[str]:
    return [sys.executable, "-m", "training", "eval", "--checkpoint",
            str(model_path(project, run_id)), "--coco", str(coco), "--images", str(images),
            "--device", "auto"]


def images_dir(project, run_id: int) -> Path:
    return project.resolve(project.runs.get(run_id).run_dir) / DATASET_DIR / "images"


def record(project, child_id: int, parent_id: int, **fields) -> None:
    child = project.runs.get(child_id)
    chain = {**(child.dataset or {}).get("chain", {}), "parent": parent_id, **fields}
    project.runs.update(child_id, dataset={**(child.dataset or {}), "chain": chain})


def describe(project, child_id: int) -> str:
    """One line on a chain step, as the panel and the history's tooltip say it."""
    chain = (project.runs.get(child_id).dataset or {}).get("chain") or {}
    parent = chain.get("parent")
    if parent is None:
        return ""
    head = f"#{child_id} fine-tuned from #{parent}"
    if chain.get("new_labels") is not None:
        head += f" with {chain['new_labels']} new labelled pictures"
    verdict = chain.get("verdict")
    if verdict is None:
        return head
    cm, pm, n = chain.get("map"), chain.get("parent_map"), chain.get("compared_on")
    numbers = (f"mAP {cm:.3f} vs {pm:.3f} on {n} pictures neither trained on"
               if cm is not None and pm is not None else chain.get("note", ""))
    return f"{head}: {numbers}; " + ("now the active model" if verdict == "active"
                                     else f"#{parent} stays active")
