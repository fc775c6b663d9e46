"""Embedder examples from the same COCO export the detectors read: whole images with
their single image-level tag (``kestrel_tags``) or box crops with their class.

A class with fewer than two examples cannot be learnt by a metric loss (it has no
positive pair); it is left out and reported, never silently dropped.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from torchvision.transforms import v2

from training.data import DatasetError, load_coco
from training.embedding.models import IMAGENET_MEAN, IMAGENET_STD
from training.images import read_rgb


@dataclass(frozen=True)
class Example:
    file_name: str
    label: int                                          # 0..K-1 over the kept classes
    box: tuple[float, float, float, float] | None = None  # xyxy in image pixels
    split: str | None = None          # the dataset's own split mark of its image


@dataclass
class EmbeddingData:
    examples: list[Example]
    class_names: list[str]
    excluded: dict[str, int] = field(default_factory=dict)  # class -> examples (< 2)
    multi_tagged: int = 0                                    # images left out: several tags


def load_examples(coco_path: str | Path, image_root: str | Path, source: str) -> EmbeddingData:
    # tags need no box classes: a project of tagged images exports no categories
    coco = load_coco(coco_path, image_root, need_categories=source == "boxes")
    raw: list[tuple[str, str, Any, Any]] = []   # (file_name, class name, box, split)
    multi = 0
    if source == "boxes":
        for img in coco.images:
            for box, label in coco.boxes[img["id"]]:
                if box[2] - box[0] >= 1 and box[3] - box[1] >= 1:
                    raw.append((img["file_name"], coco.class_names[label - 1], tuple(box),
                                img.get("kestrel_split")))
        names = list(coco.class_names)
    elif source == "tags":
        doc = json.loads(Path(coco_path).read_text(encoding="utf-8"))
        vocab = {t["id"]: str(t["name"]) for t in doc.get("kestrel_tags", [])}
        names = [vocab[k] for k in sorted(vocab)]
        for img in doc["images"]:
            tags = [vocab[t] for t in img.get("kestrel_tags", []) if t in vocab]
            if len(tags) == 1:
                raw.append((img["file_name"], tags[0], None, img.get("kestrel_split")))
            multi += len(tags) > 1
    else:
        raise ValueError(f"unknown source {source!r}")
    counts: dict[str, int] = defaultdict(int)
    for _, name, _, _ in raw:
        counts[name] += 1
    kept = [n for n in names if counts[n] >= 2]
    excluded = {n: counts[n] for n in names if 0 < counts[n] < 2}
    if len(kept) < 2:
        what = "images with exactly one tag" if source == "tags" else "boxes"
        raise DatasetError(f"an embedder needs at least two classes with two or more "
                           f"{what} each; this dataset has {dict(counts) or 'none'}")
    index = {n: i for i, n in enumerate(kept)}
    examples = [Example(f, index[n], b, sp) for f, n, b, sp in raw if n in index]
    return EmbeddingData(examples, kept, excluded, multi)


def split_examples(labels: list[int], val_fraction: float, seed: int,
                   marks: list[str | None] | None = None) -> tuple[list[int], list[int]]:
    """The dataset's own split when it marks validation examples (a class-per-folder
    set's ``val/`` folder), else a stratified, seeded split in which every class keeps
    at least one training example. Examples marked "test" are held out of both."""
    marks = marks or [None] * len(labels)
    if "val" in marks:
        return ([i for i, m in enumerate(marks) if m not in ("val", "test")],
                [i for i, m in enumerate(marks) if m == "val"])
    by_class: dict[int, list[int]] = defaultdict(list)
    for i, (y, m) in enumerate(zip(labels, marks)):
        if m != "test":
            by_class[y].append(i)
    rng = np.random.default_rng(seed)
    train, val = [], []
    for y in sorted(by_class):
        idx = list(rng.permutation(by_class[y]))
        n_val = min(int(round(len(idx) * val_fraction)), len(idx) - 1)
        val += idx[:n_val]
        train += idx[n_val:]
    return sorted(int(i) for i in train), sorted(int(i) for i in val)


def crop_box(pixels: np.ndarray, box: Any, padding: float) -> np.ndarray:
    """The box with ``padding`` (fraction of its size) of context, clipped to the image."""
    h, w = pixels.shape[:2]
    x1, y1, x2, y2 = box
    px, py = (x2 - x1) * padding, (y2 - y1) * padding
    x1, y1 = max(0, int(math.floor(x1 - px))), max(0, int(math.floor(y1 - py)))
    x2, y2 = min(w, int(math.ceil(x2 + px))), min(h, int(math.ceil(y2 + py)))
    return pixels[y1:max(y2, y1 + 1), x1:max(x2, x1 + 1)]


def make_transform(hp: Any, train: bool) -> v2.Compose:
    size = hp.image_size
    steps: list[Any] = [v2.ToImage()]
    if train:
        steps.append(v2.RandomResizedCrop(size, scale=(hp.crop_scale, 1.0), antialias=True))
        if hp.hflip > 0:
            steps.append(v2.RandomHorizontalFlip(hp.hflip))
        if hp.photometric:
            steps.append(v2.ColorJitter(0.3, 0.3, 0.3, 0.05))
    else:
        steps.append(v2.Resize((size, size), antialias=True))
    steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    return v2.Compose(steps)


class EmbeddingDataset(torch.utils.data.Dataset):
    """``(image, {"label": int64})`` for the examples at ``indices``."""

    def __init__(self, data: EmbeddingData, root: str | Path, indices: list[int],
                 transform: Any, padding: float = 0.0):
        self.data, self.root, self.indices = data, Path(root), list(indices)
        self.transform, self.padding = transform, padding

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def labels(self) -> list[int]:
        return [self.data.examples[i].label for i in self.indices]

    def __getitem__(self, idx: int):
        ex = self.data.examples[self.indices[idx]]
        path = self.root / ex.file_name
        try:
            pixels = read_rgb(path)
        except OSError as exc:
            raise DatasetError(f"cannot decode {path} ({exc})") from None
        if ex.box is not None:
            pixels = crop_box(pixels, ex.box, self.padding)
        image = self.transform(np.ascontiguousarray(pixels))
        return image, {"label": torch.tensor(ex.label, dtype=torch.int64)}


class MPerClassBatchSampler(torch.utils.data.Sampler):
    """Batches of ``m`` examples per class (pml's MPerClassSampler idea), sharded over
    ranks. The order depends only on (seed, epoch) — pml's sampler draws from a
    global RNG — so a resumed run sees the same batches; ``skip`` drops the first
    batches of an epoch (resume inside an epoch)."""

    def __init__(self, labels: list[int], batch_size: int, m: int, seed: int,
                 rank: int = 0, world_size: int = 1):
        self.labels, self.batch_size, self.m = labels, batch_size, max(1, min(m, batch_size))
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.epoch, self.skip = 0, 0
        self.by_class: dict[int, list[int]] = defaultdict(list)
        for i, y in enumerate(labels):
            self.by_class[y].append(i)
        per_rank = math.ceil(len(labels) / batch_size / world_size)
        self.total = per_rank * world_size

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def _batches(self) -> list[list[int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        classes = sorted(self.by_class)
        pools: dict[int, list[int]] = {}
        order: list[int] = []
        batches = []
        for _ in range(self.total):
            batch: list[int] = []
            while len(batch) < self.batch_size:
                if not order:
                    order = list(rng.permutation(classes))
                y = order.pop()
                for _ in range(self.m):
                    if not pools.get(y):
                        pools[y] = list(rng.permutation(self.by_class[y]))
                    batch.append(int(pools[y].pop()))
            batches.append(batch[:self.batch_size])
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        yield from self._batches()[self.rank::self.world_size][self.skip:]

    def __len__(self) -> int:
        return self.total // self.world_size - self.skip
