"""COCO file + image folder -> detection samples (tv_tensors, transforms v2).

Images without boxes are kept: they are valid negatives. Labels are contiguous,
1..K in the order of the COCO category ids (0 is the background).

Boxes stay in the original image's pixels in the COCO file. An image entry with
``kestrel_stored_size: [w, h]`` says its file is a copy reduced to that size (the
app's training-size cache); samples then come at the file's size with boxes scaled,
and ``target["scale"]`` maps predictions back to original pixels for the metrics.
"""
from __future__ import annotations

import json
import math
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from training.images import read_fitted


class DatasetError(ValueError):
    """The COCO file or an image is malformed; the message names which one."""


@dataclass
class CocoData:
    """A validated COCO detection file, indexed for training."""

    path: Path
    images: list[dict[str, Any]]                 # id, file_name, width, height[, stored_size]
    boxes: dict[int, list[tuple[list[float], int]]]  # image id -> [(xyxy, label)]
    category_ids: list[int]                      # label - 1 -> COCO category id
    class_names: list[str]
    raw_categories: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cat_to_label(self) -> dict[int, int]:
        return {c: i + 1 for i, c in enumerate(self.category_ids)}


def load_coco(path: str | Path, image_root: str | Path, check_files: bool = True,
              need_categories: bool = True) -> CocoData:
    """Read and check a COCO detection file; raise DatasetError naming the culprit.
    ``need_categories=False``: a file of image-level tags only (an embedder's) may
    have no box classes."""
    path, root = Path(path), Path(image_root)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read COCO JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise DatasetError(f"{path}: top level must be an object with images/annotations/categories")
    for key in ("images", "annotations", "categories"):
        if not isinstance(doc.get(key, []), list):
            raise DatasetError(f"{path}: '{key}' must be a list")
    cats = sorted(doc.get("categories", []), key=lambda c: c.get("id", 0) if isinstance(c, dict) else 0)
    if not cats and need_categories:
        raise DatasetError(f"{path}: no categories (no box classes to learn)")
    for c in cats:
        if not isinstance(c, dict) or not isinstance(c.get("id"), int) or not c.get("name"):
            raise DatasetError(f"{path}: category {c!r} needs an integer id and a name")
    cat_ids = [c["id"] for c in cats]
    if len(set(cat_ids)) != len(cat_ids):
        raise DatasetError(f"{path}: duplicate category ids")
    cat_to_label = {c: i + 1 for i, c in enumerate(cat_ids)}

    images, seen = [], set()
    for img in doc.get("images", []):
        name = img.get("file_name") if isinstance(img, dict) else None
        if not isinstance(img, dict) or not isinstance(img.get("id"), int) or not name:
            raise DatasetError(f"{path}: image entry {img!r} needs an integer id and a file_name")
        if img["id"] in seen:
            raise DatasetError(f"{path}: image id {img['id']} ({name}) appears twice")
        w, h = img.get("width"), img.get("height")
        if not (isinstance(w, (int, float)) and isinstance(h, (int, float)) and w > 0 and h > 0):
            raise DatasetError(f"{path}: image {img['id']} ({name}) needs positive width and height")
        if check_files and not (root / name).is_file():
            raise DatasetError(f"image {img['id']}: file {root / name} does not exist")
        seen.add(img["id"])
        entry = {"id": img["id"], "file_name": name, "width": w, "height": h}
        for key in ("kestrel_split", "kestrel_group"):   # the dataset's own split (training.split)
            if img.get(key) is not None:
                entry[key] = img[key]
        stored = img.get("kestrel_stored_size")
        if stored is not None:
            if not (isinstance(stored, list) and len(stored) == 2
                    and all(isinstance(v, int) and v > 0 for v in stored)):
                raise DatasetError(f"{path}: image {img['id']} ({name}): kestrel_stored_size "
                                   f"must be [width, height], got {stored!r}")
            entry["stored_size"] = tuple(stored)
        images.append(entry)
    if not images:
        raise DatasetError(f"{path}: no images")

    boxes: dict[int, list] = {i["id"]: [] for i in images}
    for ann in doc.get("annotations", []):
        aid = ann.get("id") if isinstance(ann, dict) else None
        where = f"{path}: annotation {aid if aid is not None else ann!r}"
        if not isinstance(ann, dict):
            raise DatasetError(f"{where}: not an object")
        if ann.get("image_id") not in boxes:
            raise DatasetError(f"{where}: unknown image_id {ann.get('image_id')!r}")
        if ann.get("category_id") not in cat_to_label:
            raise DatasetError(f"{where} (image {ann['image_id']}): unknown category_id "
                               f"{ann.get('category_id')!r}")
        bbox = ann.get("bbox")
        if (not isinstance(bbox, list) or len(bbox) != 4
                or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in bbox)):
            raise DatasetError(f"{where} (image {ann['image_id']}): bbox must be 4 finite "
                               f"numbers [x, y, w, h], got {bbox!r}")
        x, y, w, h = bbox
        if w < 0 or h < 0:
            raise DatasetError(f"{where} (image {ann['image_id']}): negative box size {bbox!r}")
        if ann.get("iscrowd", 0):
            continue  # crowd regions are ignored by training, as in torchvision's references
        boxes[ann["image_id"]].append(([x, y, x + w, y + h], cat_to_label[ann["category_id"]]))
    return CocoData(path, images, boxes, cat_ids, [str(c["name"]) for c in cats], cats)


def make_transforms(hp: Any, train: bool, to_float: bool = True) -> v2.Compose:
    """Augmentation (training) on uint8 pixels, then float in [0, 1] unless
    ``to_float`` is False (the images then travel as uint8, 4x smaller, and become
    float on the device: training.engine.to_device)."""
    steps: list[Any] = []
    if train:
        if hp.photometric:
            steps.append(v2.RandomPhotometricDistort(p=0.5))
        if hp.scale_jitter > 0:
            j = hp.scale_jitter
            steps.append(v2.RandomAffine(degrees=0, scale=(1 - j, 1 + j)))
        if hp.hflip > 0:
            steps.append(v2.RandomHorizontalFlip(p=hp.hflip))
    if to_float:
        steps.append(v2.ToDtype(torch.float32, scale=True))
    steps += [v2.ClampBoundingBoxes(), v2.SanitizeBoundingBoxes(min_size=1.0)]
    return v2.Compose(steps)


class DetectionDataset(torch.utils.data.Dataset):
    """Samples ``(image, target)``: an image (float in [0, 1], or uint8 if the
    transforms say so) and a dict with ``boxes`` (BoundingBoxes, XYXY), ``labels``
    (int64), ``image_id`` and ``scale`` ((sx, sy): sample pixels per original pixel).

    ``fit`` (training.sizing.InputFit): images larger than the model's input are
    decoded reduced (JPEG draft mode) and resized to it, their boxes with them."""

    def __init__(self, coco: CocoData, root: str | Path, indices: list[int] | None = None,
                 transforms: Any = None, fit: Any = None):
        self.coco, self.root = coco, Path(root)
        self.indices = list(range(len(coco.images))) if indices is None else list(indices)
        self.transforms, self.fit = transforms, fit

    def __len__(self) -> int:
        return len(self.indices)

    def aspect_groups(self) -> list[int]:
        """0 for landscape, 1 for portrait, from the COCO sizes (no decoding)."""
        return [int(self.coco.images[i]["height"] > self.coco.images[i]["width"])
                for i in self.indices]

    def __getitem__(self, idx: int):
        info = self.coco.images[self.indices[idx]]
        path = self.root / info["file_name"]
        stored = info.get("stored_size")
        try:
            pixels, full = read_fitted(path, self.fit)
        except OSError as exc:
            raise DatasetError(f"image {info['id']}: cannot decode {path} ({exc})") from None
        if stored is not None:   # a reduced copy: the COCO size is the original's
            if full != stored:
                raise DatasetError(f"image {info['id']}: {path} is {full[0]}x{full[1]}, the "
                                   f"dataset says its copy is {stored[0]}x{stored[1]}")
            full = (info["width"], info["height"])
        image = torch.from_numpy(pixels).permute(2, 0, 1)
        h, w = image.shape[-2:]
        sx, sy = w / full[0], h / full[1]
        items = self.coco.boxes[info["id"]]
        boxes = torch.tensor([b for b, _ in items], dtype=torch.float32).reshape(-1, 4)
        if (sx, sy) != (1.0, 1.0):
            boxes *= torch.tensor([sx, sy, sx, sy])
        target = {
            "boxes": tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(h, w)),
            "labels": torch.tensor([c for _, c in items], dtype=torch.int64),
            "image_id": info["id"],
            "scale": (sx, sy),
        }
        image = tv_tensors.Image(image)
        if self.transforms is not None:
            image, target = self.transforms(image, target)
        return image, target


def worker_init(_worker_id: int) -> None:
    """DataLoader workers ignore Ctrl-C: the main process stops the run after the
    current step, and a worker that died on SIGINT would turn that into a failure."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def collate(batch: list) -> tuple:
    return tuple(zip(*batch))


class GroupedBatchSampler(torch.utils.data.Sampler):
    """Shuffled batches of images of one aspect group, sharded over ranks
    (torchvision's GroupedBatchSampler over a DistributedSampler).

    The order depends only on (seed, epoch), so a resumed run sees the same batches;
    ``skip`` drops the first batches of the epoch (resume inside an epoch).
    Leftovers of the groups are batched together, so len == ceil(n_rank / batch).
    """

    def __init__(self, groups: list[int], batch_size: int, seed: int, shuffle: bool = True,
                 rank: int = 0, world_size: int = 1, grouping: bool = True):
        self.groups, self.batch_size, self.seed = groups, batch_size, seed
        self.shuffle, self.rank, self.world_size = shuffle, rank, world_size
        self.grouping = grouping
        self.epoch, self.skip = 0, 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def _rank_indices(self) -> list[int]:
        # DistributedSampler does the seeded shuffle, padding and sharding (also for
        # one process, so both cases share one order).
        shard = torch.utils.data.DistributedSampler(
            self.groups, num_replicas=self.world_size, rank=self.rank,
            shuffle=self.shuffle, seed=self.seed)
        shard.set_epoch(self.epoch)
        return list(shard)

    def _batches(self) -> list[list[int]]:
        indices, bs = self._rank_indices(), self.batch_size
        if not self.grouping:
            batches = [indices[i:i + bs] for i in range(0, len(indices), bs)]
        else:
            buffers: dict[int, list[int]] = {}
            batches = []
            for i in indices:
                buf = buffers.setdefault(self.groups[i], [])
                buf.append(i)
                if len(buf) == bs:
                    batches.append(buf[:])
                    buf.clear()
            rest = [i for buf in buffers.values() for i in buf]
            batches += [rest[i:i + bs] for i in range(0, len(rest), bs)]
        # A last batch of one image breaks BatchNorm in training (SSDlite's heads):
        # it joins the batch before it.
        if len(batches) > 1 and len(batches[-1]) == 1:
            lone = batches.pop()
            batches[-1] = batches[-1] + lone
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        yield from self._batches()[self.skip:]

    def __len__(self) -> int:
        per_rank = math.ceil(len(self.groups) / self.world_size)
        n = math.ceil(per_rank / self.batch_size)
        if n > 1 and per_rank % self.batch_size == 1:
            n -= 1   # the lone last image rides with the batch before it
        return n - self.skip


def coco_ground_truth(coco: CocoData, indices: list[int]) -> dict[str, Any]:
    """A COCO dict of the given images, with contiguous labels as category ids
    (the model's output space), for pycocotools' COCOeval."""
    images = [{k: v for k, v in coco.images[i].items() if k != "stored_size"}
              for i in indices]
    anns = []
    for img in images:
        for box, label in coco.boxes[img["id"]]:
            x0, y0, x1, y1 = box
            anns.append({"id": len(anns) + 1, "image_id": img["id"], "category_id": label,
                         "bbox": [x0, y0, x1 - x0, y1 - y0], "area": (x1 - x0) * (y1 - y0),
                         "iscrowd": 0})
    cats = [{"id": i + 1, "name": n} for i, n in enumerate(coco.class_names)]
    return {"images": images, "annotations": anns, "categories": cats}
