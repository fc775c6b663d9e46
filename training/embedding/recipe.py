"""The embedder task for the training-run skeleton: examples from image tags or box
crops, a backbone + projection head with its metric loss, m-per-class batches and
retrieval metrics. Its ``metrics`` events carry precision@1 / R-precision / MAP@R
(``map``/``map50`` stay null)."""
from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch

from training.embedding.checkpoint import FORMAT, load_embedder_checkpoint
from training.embedding.data import (EmbeddingDataset, MPerClassBatchSampler, load_examples,
                                     make_transform, split_examples)
from training.embedding.metrics import embed_batches, retrieval_metrics
from training.loading import eval_loader
from training.recipe import RunData, TaskRecipe


class EmbeddingRecipe(TaskRecipe):
    task = "embedder"
    # precision@1 often ties at 1.0 on easy data: MAP@R breaks the tie
    score_keys = ("precision_at_1", "map_at_r")

    def load_checkpoint(self, path):
        return load_embedder_checkpoint(path)

    def build_data(self, cfg, hp, device) -> RunData:
        data = load_examples(cfg.coco, cfg.images, hp.source)
        if data.excluded:
            print("left out of training (a single example each): "
                  + ", ".join(f"{n} ({c})" for n, c in data.excluded.items()), file=sys.stderr)
        labels = [e.label for e in data.examples]
        train_idx, val_idx = split_examples(labels, hp.val_fraction, hp.seed,
                                            [e.split for e in data.examples])
        train = EmbeddingDataset(data, cfg.images, train_idx, make_transform(hp, True),
                                 hp.crop_padding)
        return RunData(data, data.class_names, train, train_idx, val_idx)

    def build_model(self, spec, hp, data):
        return spec.build(num_classes=len(data.class_names), hparams=hp)

    def build_optimizer(self, model, hp, world_size):
        return torch.optim.AdamW(model.param_groups(hp.lr, hp.head_lr_factor),
                                 weight_decay=hp.weight_decay)

    def build_sampler(self, data, hp, rank, world_size):
        return MPerClassBatchSampler(data.train.labels, hp.batch_size, hp.samples_per_class,
                                     hp.seed, rank=rank, world_size=world_size)

    def build_evaluator(self, data, hp, device, amp, workers):
        def loader(indices):
            ds = EmbeddingDataset(data.source, data.train.root, indices,
                                  make_transform(hp, False), hp.crop_padding)
            return eval_loader(ds, hp.batch_size, workers, device, hp.seed)
        val_loader, ref_loader = loader(data.val_indices), loader(data.train_indices)

        def evaluate(model: torch.nn.Module) -> dict[str, Any]:
            # validation queries against validation + training examples: a class with a
            # single held-out example still has its neighbours to find
            q, qy = embed_batches(model, val_loader, device, amp)
            r, ry = embed_batches(model, ref_loader, device, amp)
            m = retrieval_metrics(q, qy, np.concatenate([q, r]), np.concatenate([qy, ry]),
                                  data.class_names)
            return {"map": None, "map50": None, **m}
        return evaluate

    def checkpoint_meta(self, hp, data) -> dict[str, Any]:
        return {"format": FORMAT, "source": hp.source}

    def started_fields(self, data) -> dict[str, Any]:
        return {"task": "embedder", "excluded_classes": data.source.excluded,
                "multi_tagged_images": data.source.multi_tagged}

    def finished_fields(self, trainer, evaluated) -> dict[str, Any]:
        p1 = trainer.best_score[0] if evaluated and trainer.best_score else None
        return {"best_map": None, "best_precision_at_1": p1}
