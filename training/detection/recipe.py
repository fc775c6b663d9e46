"""The detector task for the training-run skeleton: COCO boxes, a torchvision
detector, SGD/AdamW, aspect-grouped batches and COCOeval mAP."""
from __future__ import annotations

from typing import Any

import torch

from training.checkpoint import load_detector_checkpoint
from training.data import (DetectionDataset, GroupedBatchSampler, coco_ground_truth, collate,
                           load_coco, make_transforms, worker_init)
from training.engine import evaluate
from training.recipe import RunData, TaskRecipe
from training.split import dataset_split


class DetectionRecipe(TaskRecipe):
    task = "detector"
    score_keys = ("map", "map50")

    def load_checkpoint(self, path):
        return load_detector_checkpoint(path)

    def build_data(self, cfg, hp) -> RunData:
        coco = load_coco(cfg.coco, cfg.images)
        train_idx, val_idx = dataset_split(coco.images, hp.val_fraction, hp.seed)
        train = DetectionDataset(coco, cfg.images, train_idx, make_transforms(hp, True))
        return RunData(coco, coco.class_names, train, train_idx, val_idx)

    def build_model(self, spec, hp, data):
        return spec.build(num_classes=len(data.class_names) + 1, hparams=hp)

    def build_optimizer(self, model, hp, world_size):
        params = [p for p in model.parameters() if p.requires_grad]
        lr = hp.lr * (hp.batch_size * world_size if hp.lr_mode == "per_image" else 1)
        if hp.optimizer == "adamw":
            return torch.optim.AdamW(params, lr=lr, weight_decay=hp.weight_decay)
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=hp.weight_decay)

    def build_sampler(self, data, hp, rank, world_size):
        return GroupedBatchSampler(data.train.aspect_groups(), hp.batch_size, hp.seed,
                                   rank=rank, world_size=world_size,
                                   grouping=hp.aspect_grouping)

    def build_evaluator(self, data, hp, device, amp):
        coco = data.source
        val = DetectionDataset(coco, data.train.root, data.val_indices,
                               make_transforms(hp, False))
        loader = torch.utils.data.DataLoader(
            val, batch_size=hp.batch_size, num_workers=min(hp.workers, 2), collate_fn=collate,
            pin_memory=device.type == "cuda", worker_init_fn=worker_init,
            generator=torch.Generator().manual_seed(hp.seed))
        gt = coco_ground_truth(coco, data.val_indices)
        return lambda model: evaluate(model, loader, device, gt, coco.class_names, amp)

    def checkpoint_meta(self, hp, data) -> dict[str, Any]:
        return {"category_ids": data.source.category_ids}
