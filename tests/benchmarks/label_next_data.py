"""Shared by the Label next benchmarks: the kangaroo photos with their labels, a
project holding them, training a round on a chosen set, and a small PNG plot drawn
with Pillow (no plotting library is a dependency)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# beside the main checkout (../shared), or beside a worktree's parent; KESTREL_KANGAROO wins
DATA = Path(os.environ.get("KESTREL_KANGAROO") or next(
    (p / "shared" / "data" / "kangaroo-voc" for p in (ROOT.parent, ROOT.parent.parent)
     if (p / "shared" / "data" / "kangaroo-voc").is_dir()), ROOT.parent / "shared" / "data" / "kangaroo-voc"))
TEMPLATE = "fasterrcnn_mobilenet_v2"


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()}")


def load_truth(folder: Path = DATA) -> dict[str, list[tuple[str, tuple[float, ...]]]]:
    """file name → [(class, xyxy)] from the VOC files."""
    out = {}
    for xml in sorted((folder / "annots").glob("*.xml")):
        root = ET.parse(xml).getroot()
        name = root.findtext("filename")
        if not (folder / "images" / name).is_file():
            continue
        boxes = []
        for obj in root.iter("object"):
            b = obj.find("bndbox")
            boxes.append((obj.findtext("name"), tuple(float(b.findtext(k))
                                                      for k in ("xmin", "ymin", "xmax", "ymax"))))
        out[name] = boxes
    return out


def make_project(folder: Path, images: Path = DATA / "images"):
    """A project holding every image, none labelled; returns (project, name → media id)."""
    from app.store.project import Project

    project = Project.create(folder)
    project.media.import_files([images])
    return project, {m.name: m.id for m in project.media.list()}


def label(project, ids: dict[str, int], names, truth, classes=None) -> None:
    """Give these pictures their true labels (what the simulated user draws)."""
    rows = []
    for name in names:
        for cls, (x1, y1, x2, y2) in (classes or {}).get(name, truth[name]):
            rows.append(dict(media_id=ids[name], frame=0, class_id=project.classes.ensure(cls),
                             x1=x1, y1=y1, x2=x2, y2=y2, source="manual"))
    with project.transaction():
        project.boxes.add(rows)
        empty = [(ids[n], 0) for n in names if not (classes or {}).get(n, truth[n])]
        if empty:
            project.status.mark_many(empty, "empty")


def write_coco(path: Path, size_of, train: dict, val: dict, class_names: list[str],
               repeat: int = 1) -> Path:
    """A COCO file: ``train`` / ``val`` map file name → [(class, xyxy)]; the training
    photos listed ``repeat`` times (one pass is then that many passes)."""
    cats = {c: i for i, c in enumerate(class_names, 1)}
    images, anns = [], []
    for split, part in (("train", train), ("val", val)):
        for name, boxes in sorted(part.items()) * (repeat if split == "train" else 1):
            w, h = size_of(name)
            images.append({"id": len(images) + 1, "file_name": name, "width": w, "height": h,
                           "kestrel_split": split})
            for cls, (x1, y1, x2, y2) in boxes:
                anns.append({"id": len(anns) + 1, "image_id": len(images),
                             "category_id": cats[cls], "bbox": [x1, y1, x2 - x1, y2 - y1],
                             "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [
        {"id": i, "name": c} for c, i in cats.items()]}))
    return path


def train(coco: Path, run_dir: Path, settings: dict, images: Path = DATA / "images") -> dict:
    """Train one round in a child process; returns the last evaluation and the time."""
    from training.cli import train_argv

    run_dir.mkdir(parents=True, exist_ok=True)
    argv = train_argv(coco, images, TEMPLATE, run_dir, settings, device="cpu")
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    t0 = time.perf_counter()
    with open(run_dir / "trainer.log", "w") as log:
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    metrics = [e for e in events if e.get("event") == "metrics"]
    if out.returncode != 0 or not metrics:
        tail = [e for e in events if e.get("event") == "failed"]
        raise RuntimeError(f"training failed in {run_dir}: {tail[-1]['message'] if tail else out.returncode}")
    last = metrics[-1]
    return {"map": last.get("map"), "map50": last.get("map50"),
            "best_map": max(m.get("map") or 0 for m in metrics),
            "seconds": round(time.perf_counter() - t0, 1)}


def register_run(project, run_dir: Path, name: str, class_names: list[str]) -> int:
    """A finished detector run whose model the app can use (scoring, suspects)."""
    run_id = project.runs.add(name=name, task="detector", template=TEMPLATE, run_dir="",
                              hyperparameters={})
    project.runs.update(run_id, run_dir=str(run_dir), status="finished",
                        dataset={"classes": class_names})
    return run_id


def plot(path: Path, series: dict[str, list[tuple[float, float]]], title: str,
         xlabel: str, ylabel: str, hline: float | None = None) -> Path:
    """A line chart as a PNG (Pillow)."""
    from PIL import Image, ImageDraw

    w, h, left, bottom, top, right = 760, 460, 70, 60, 40, 170
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    xs = [x for pts in series.values() for x, _ in pts] or [0, 1]
    ys = [y for pts in series.values() for _, y in pts] + ([hline] if hline is not None else [])
    x0, x1 = min(xs), max(xs)
    y0, y1 = 0.0, max(ys + [0.1]) * 1.1
    px = lambda x: left + (x - x0) / max(x1 - x0, 1e-9) * (w - left - right)   # noqa: E731
    py = lambda y: h - bottom - (y - y0) / max(y1 - y0, 1e-9) * (h - top - bottom)  # noqa: E731
    d.rectangle([left, top, w - right, h - bottom], outline="black")
    for k in range(6):
        y = y0 + (y1 - y0) * k / 5
        d.line([left - 4, py(y), left, py(y)], fill="black")
        d.text((8, py(y) - 6), f"{y:.2f}", fill="black")
    for x in sorted(set(xs)):
        d.line([px(x), h - bottom, px(x), h - bottom + 4], fill="black")
        d.text((px(x) - 8, h - bottom + 8), f"{x:g}", fill="black")
    d.text((left, 10), title, fill="black")
    d.text(((w - right) // 2, h - 22), xlabel, fill="black")
    d.text((8, top - 22), ylabel, fill="black")
    if hline is not None:
        for x in range(int(px(x0)), int(px(x1)), 8):
            d.line([x, py(hline), x + 4, py(hline)], fill="gray")
    colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"]
    for n, (name, pts) in enumerate(series.items()):
        c = colours[n % len(colours)]
        pts = sorted(pts)
        d.line([(px(x), py(y)) for x, y in pts], fill=c, width=2)
        for x, y in pts:
            d.ellipse([px(x) - 3, py(y) - 3, px(x) + 3, py(y) + 3], fill=c)
        d.line([w - right + 12, top + 12 + n * 18, w - right + 32, top + 12 + n * 18], fill=c, width=3)
        d.text((w - right + 38, top + 6 + n * 18), name, fill="black")
    img.save(path)
    return path


def add_root_to_path() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
