"""COCO loading, validation, split and batching."""
import json

import pytest
import torch

from training.data import (DatasetError, DetectionDataset, GroupedBatchSampler, load_coco,
                           make_transforms)
from training.split import split_indices
from training.engine import coco_metrics
from training.data import coco_ground_truth
from training.hparams import DetectorHParams


def test_dataset_yields_bounding_boxes_and_keeps_negatives(tiny_coco):
    coco_path, root = tiny_coco
    coco = load_coco(coco_path, root)
    assert coco.class_names == ["red", "green"]
    ds = DetectionDataset(coco, root, transforms=make_transforms(DetectorHParams(), True))
    assert len(ds) == 12
    from torchvision import tv_tensors

    image, target = ds[3]  # every fourth image is a negative
    assert isinstance(target["boxes"], tv_tensors.BoundingBoxes)
    assert target["boxes"].shape == (0, 4) and target["labels"].shape == (0,)
    assert image.dtype == torch.float32 and image.shape[0] == 3
    image, target = ds[0]
    assert len(target["boxes"]) == len(target["labels"]) >= 1
    assert set(target["labels"].tolist()) <= {1, 2}


def test_split_is_deterministic_and_disjoint():
    a = split_indices(50, 0.2, seed=7)
    assert a == split_indices(50, 0.2, seed=7) and a != split_indices(50, 0.2, seed=8)
    train, val = a
    assert len(val) == 10 and not set(train) & set(val) and len(train) + len(val) == 50
    assert split_indices(10, 0.0, 0) == (list(range(10)), [])


@pytest.mark.parametrize("world", [1, 2])
def test_grouped_batches_cover_everything_once_per_rank(world):
    groups = [i % 3 == 0 for i in range(23)]
    seen = []
    for rank in range(world):
        s = GroupedBatchSampler([int(g) for g in groups], 4, seed=1, rank=rank, world_size=world)
        s.set_epoch(2)
        batches = list(s)
        assert len(batches) == len(s)
        full = [b for b in batches if len(b) == 4]
        assert all(len({groups[i] for i in b}) == 1 for b in full[:-1] if b)
        seen += [i for b in batches for i in b]
        s.set_epoch(2, skip=2)
        assert list(s) == batches[2:] and len(s) == len(batches) - 2
    assert set(seen) == set(range(23))


def _write(tmp_path, doc):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return p


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), "annotation 1"),
    (lambda d: d["annotations"][1].update(bbox=[1, 2, -3, 4]), "annotation 2"),
    (lambda d: d["annotations"][0].update(category_id=99), "unknown category_id 99"),
    (lambda d: d["annotations"][0].update(image_id=999), "unknown image_id 999"),
    (lambda d: d["images"][2].update(file_name="img/missing.png"), "missing.png"),
    (lambda d: d["images"][1].pop("width"), "image 2"),
    (lambda d: d.update(categories=[]), "no categories"),
])
def test_malformed_coco_names_the_culprit(tiny_coco, tmp_path, mutate, message):
    coco_path, root = tiny_coco
    doc = json.loads(coco_path.read_text())
    mutate(doc)
    with pytest.raises(DatasetError, match=message):
        load_coco(_write(tmp_path, doc), root)


def test_unreadable_json(tiny_coco, tmp_path):
    with pytest.raises(DatasetError, match="cannot read COCO JSON"):
        load_coco(_write(tmp_path, "{not json"), tiny_coco[1])


def test_perfect_predictions_give_map_one(tiny_coco):
    coco = load_coco(*tiny_coco)
    gt = coco_ground_truth(coco, list(range(len(coco.images))))
    dets = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"],
             "score": 1.0} for a in gt["annotations"]]
    m = coco_metrics(gt, dets, coco.class_names)
    assert m["map"] == pytest.approx(1.0) and m["map50"] == pytest.approx(1.0)
    assert m["per_class"] == {"red": pytest.approx(1.0), "green": pytest.approx(1.0)}
    empty = coco_metrics(gt, [], coco.class_names)
    assert empty["map"] == 0.0


@pytest.mark.parametrize("n, batch, grouping", [(7, 2, True), (7, 2, False), (9, 4, True), (1, 2, True)])
def test_no_training_batch_holds_a_lone_image(n, batch, grouping):
    """BatchNorm in training needs two images: a lone last image joins the batch before."""
    s = GroupedBatchSampler([i % 2 for i in range(n)], batch, seed=0, grouping=grouping)
    s.set_epoch(0)
    batches = list(s)
    assert len(batches) == len(s)
    assert sorted(i for b in batches for i in b) == list(range(n))
    assert n == 1 or all(len(b) >= 2 for b in batches)
