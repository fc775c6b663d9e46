"""Generated demo data: coloured shapes of three classes on textured backgrounds.

``make_demo(folder)`` writes about 60 images and a short clip into a new project and
labels them (boxes, image-level tags, video keyframes with track ids, interpolated
between), so every part of Kestrel can be tried without any data of one's own. The
last tenth of the images are left not labelled (tagged only), as they would be while
labelling goes on. Deterministic for a seed.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

CLASSES = [("circle", "#e15759"), ("square", "#4e79a7"), ("triangle", "#59a14f")]
BACKGROUNDS = ["stripes", "noise", "gradient"]
CROWDED = "crowded"  # tag for images with four or more shapes


def background(kind: str, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    base = rng.integers(40, 200, size=3)
    if kind == "stripes":
        period = int(rng.integers(8, 24))
        x = np.arange(w)[None, :] + np.arange(h)[:, None] * rng.choice([0, 1])
        band = ((x // period) % 2).astype(np.float32)[..., None]
        img = base * (0.7 + 0.3 * band)
    elif kind == "noise":
        img = base + rng.normal(0, 28, size=(h, w, 3))
    else:
        ramp = np.linspace(0.5, 1.2, w, dtype=np.float32)[None, :, None]
        img = base * ramp * np.ones((h, 1, 1), np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def draw_shape(img: np.ndarray, cls: str, cx: float, cy: float, r: float, color) -> tuple:
    """Draw one shape; returns its tight box (x1, y1, x2, y2) in pixels."""
    color = tuple(int(c) for c in color)
    if cls == "circle":
        cv2.circle(img, (int(cx), int(cy)), int(r), color, -1, cv2.LINE_AA)
        return (int(cx) - int(r), int(cy) - int(r), int(cx) + int(r) + 1, int(cy) + int(r) + 1)
    if cls == "square":
        x1, y1, x2, y2 = int(cx - r), int(cy - r), int(cx + r), int(cy + r)
        cv2.rectangle(img, (x1, y1), (x2, y2), color, -1)
        return (x1, y1, x2 + 1, y2 + 1)
    pts = np.array([[cx, cy - r], [cx - r, cy + r * 0.8], [cx + r, cy + r * 0.8]], np.int32)
    cv2.fillPoly(img, [pts], color, cv2.LINE_AA)
    return (int(pts[:, 0].min()), int(pts[:, 1].min()), int(pts[:, 0].max()) + 1, int(pts[:, 1].max()) + 1)


def make_image(rng: np.random.Generator, w: int = 320, h: int = 240):
    """One synthetic image: returns (BGR array, [(class, box)], [tags])."""
    kind = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
    img = background(kind, w, h, rng)
    shapes = []
    for _ in range(int(rng.integers(1, 6))):
        cls = CLASSES[int(rng.integers(len(CLASSES)))][0]
        r = float(rng.uniform(12, 36))
        cx, cy = rng.uniform(r + 2, w - r - 2), rng.uniform(r + 2, h - r - 2)
        box = draw_shape(img, cls, cx, cy, r, rng.integers(0, 256, size=3))
        x1, y1, x2, y2 = box
        shapes.append((cls, (max(0, x1), max(0, y1), min(w, x2), min(h, y2))))
    tags = [kind] + ([CROWDED] if len(shapes) >= 4 else [])
    return img, shapes, tags


def make_clip(path: Path, frames: int = 72, w: int = 320, h: int = 240, fps: float = 24.0):
    """A clip of a circle moving right and a square moving down; returns per-frame boxes."""
    rng = np.random.default_rng(7)
    bg = background("gradient", w, h, rng)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write video {path}")
    truth = []
    for i in range(frames):
        img = bg.copy()
        t = i / max(1, frames - 1)
        circle = draw_shape(img, "circle", 40 + t * (w - 80), h * 0.35, 22, (40, 40, 230))
        square = draw_shape(img, "square", w * 0.7, 30 + t * (h - 60), 18, (230, 120, 30))
        writer.write(img)
        truth.append({1: ("circle", circle), 2: ("square", square)})
    writer.release()
    return truth


def make_demo(folder: str | os.PathLike, n_images: int = 60, seed: int = 0, video: bool = True):
    """Create a demo project in ``folder`` (which must not be a project yet)."""
    from app.store.project import Project
    from app.store.tracks import rebuild_all

    root = Path(folder).expanduser().absolute()
    project = Project.create(root)
    media_dir = root / "media"
    (media_dir / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    labels = {}
    for i in range(n_images):
        img, shapes, tags = make_image(rng)
        path = media_dir / "images" / f"shapes_{i:03d}.jpg"
        cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        labels[project.stored_path(path)] = (shapes, tags)
    truth = make_clip(media_dir / "shapes_clip.mp4") if video else []

    for name, color in CLASSES:
        project.classes.add(name, color)
    for tag in BACKGROUNDS + [CROWDED]:
        project.tags.add(tag)
    class_ids = {c.name: c.id for c in project.classes.all()}
    tag_ids = {t.name: t.id for t in project.tags.all()}
    # Images first (short names in the browser), then the clip.
    report = project.media.import_files([media_dir / "images"] + ([media_dir / "shapes_clip.mp4"] if video else []))
    unlabelled = n_images - n_images // 10       # the first image left to label
    with project.transaction():
        for n, media in enumerate(project.media.list()):
            if media.kind == "image":
                shapes, tags = labels[media.path]
                if n < unlabelled:
                    project.boxes.add(dict(media_id=media.id, class_id=class_ids[c], x1=b[0],
                                           y1=b[1], x2=b[2], y2=b[3]) for c, b in shapes)
                for tag in tags:
                    project.tags.set(media.id, tag_ids[tag], True)
            else:
                # Keyframes at the start, middle and end of each track.
                keyframes = sorted({0, len(truth) // 2, len(truth) - 1})
                project.boxes.add(
                    dict(media_id=media.id, frame=f, class_id=class_ids[truth[f][t][0]], track_id=t,
                         x1=truth[f][t][1][0], y1=truth[f][t][1][1], x2=truth[f][t][1][2],
                         y2=truth[f][t][1][3])
                    for f in keyframes for t in truth[f])
                rebuild_all(project, media.id)
    if report.skipped:
        raise RuntimeError(f"demo media could not be imported: {report.skipped}")
    return project
