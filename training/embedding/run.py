"""One embedder training run, wired like ``training.run.run_train`` and reusing its
parts: the same Trainer loop and hooks (progress, checkpoints, early stop, cancel),
signals, devices and torchrun/DDP. Only data, model and evaluation differ: metrics
events carry precision@1 / R-precision / MAP@R (``map``/``map50`` stay null).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training import hparams as hpmod
from training.checkpoint import CheckpointError, load_checkpoint
from training.data import collate, worker_init
from training.embedding.data import (EmbeddingDataset, MPerClassBatchSampler, load_examples,
                                     make_transform, split_examples)
from training.embedding.metrics import embed_batches, retrieval_metrics
from training.events import Emitter
from training.run import (TrainConfig, _ddp_all_reduce, _dist_setup, _install_signals,
                          check_resume_classes, lr_lambda, report_failure, report_outcome,
                          resolve_device, restore_progress, restore_state, resume_hparams,
                          run_hooks, seed_everything, teardown)
from training.templates import get_template
from training.trainer import Trainer

FORMAT = "kestrel.embedder"


def load_embedder_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    state = load_checkpoint(path, map_location)
    if state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Kestrel embedder checkpoint")
    return state


def _evaluate_fn(train_ds, val_ds, hp, device, amp, class_names):
    def loader(ds):
        return torch.utils.data.DataLoader(ds, batch_size=hp.batch_size, collate_fn=collate,
                                           num_workers=min(hp.workers, 2),
                                           worker_init_fn=worker_init)
    val_loader, ref_loader = loader(val_ds), loader(train_ds)

    def evaluate(model: torch.nn.Module) -> dict[str, Any]:
        # validation queries against validation + training examples: a class with a
        # single held-out example still has its neighbours to find
        q, qy = embed_batches(model, val_loader, device, amp)
        r, ry = embed_batches(model, ref_loader, device, amp)
        m = retrieval_metrics(q, qy, np.concatenate([q, r]), np.concatenate([qy, ry]),
                              class_names)
        return {"map": None, "map50": None, **m}
    return evaluate


def run_embedder_train(cfg: TrainConfig, emitter: Emitter | None = None) -> int:
    """Train an embedder; 0 when finished or cancelled (resumable), 1 when failed."""
    emitter = emitter or Emitter()
    world = 1
    trainer: Trainer | None = None
    stop: list[str] = []
    restore = _install_signals(lambda reason: trainer.request_stop(reason) if trainer
                               else stop.append(reason))
    try:
        rank, world, local_rank = _dist_setup()
        emitter.enabled = emitter.enabled and rank == 0
        device = resolve_device(cfg.device, local_rank)
        spec = get_template(cfg.template)
        run_dir = Path(cfg.run_dir)
        last = run_dir / "last.pt"
        hp, state = resume_hparams(cfg, spec, last, load_embedder_checkpoint)
        seed_everything(hp.seed)

        data = load_examples(cfg.coco, cfg.images, hp.source)
        if data.excluded:
            print("left out of training (a single example each): "
                  + ", ".join(f"{n} ({c})" for n, c in data.excluded.items()), file=sys.stderr)
        check_resume_classes(state, last, data.class_names)
        labels = [e.label for e in data.examples]
        train_idx, val_idx = split_examples(labels, hp.val_fraction, hp.seed)
        pad = hp.crop_padding
        train_ds = EmbeddingDataset(data, cfg.images, train_idx, make_transform(hp, True), pad)
        val_ds = EmbeddingDataset(data, cfg.images, val_idx, make_transform(hp, False), pad)
        ref_ds = EmbeddingDataset(data, cfg.images, train_idx, make_transform(hp, False), pad)

        model = spec.build(num_classes=len(data.class_names), hparams=hp).to(device)
        optimizer = torch.optim.AdamW(model.param_groups(hp.lr, hp.head_lr_factor),
                                      weight_decay=hp.weight_decay)
        sampler = MPerClassBatchSampler(train_ds.labels, hp.batch_size, hp.samples_per_class,
                                        hp.seed, rank=rank, world_size=world)
        steps_per_epoch = len(sampler)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lr_lambda(hp, hp.epochs * steps_per_epoch))
        amp = hp.amp and device.type == "cuda"
        scaler = torch.amp.GradScaler("cuda", enabled=amp)
        start_epoch, start_step = restore_state(state, model, optimizer, scheduler, scaler)
        if world > 1:
            model = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=[local_rank] if device.type == "cuda" else None)

        loader = torch.utils.data.DataLoader(
            train_ds, batch_sampler=sampler, num_workers=hp.workers, collate_fn=collate,
            pin_memory=device.type == "cuda", persistent_workers=hp.workers > 0,
            worker_init_fn=worker_init, generator=torch.Generator().manual_seed(hp.seed))
        evaluate_fn = None
        if val_idx and rank == 0:
            evaluate_fn = _evaluate_fn(ref_ds, val_ds, hp, device, amp, data.class_names)
        hooks = run_hooks(cfg, emitter, rank, evaluate_fn, hp.patience,
                          ("precision_at_1", "map_at_r"))
        meta = {"format": FORMAT, "template": cfg.template, "hparams": hpmod.to_dict(hp),
                "class_names": data.class_names, "source": hp.source}
        trainer = Trainer(
            model=model, optimizer=optimizer, scheduler=scheduler, scaler=scaler, loader=loader,
            batch_sampler=sampler, device=device, epochs=hp.epochs,
            steps_per_epoch=steps_per_epoch, hooks=hooks + cfg.extra_hooks, amp=amp,
            grad_clip=hp.grad_clip, start_epoch=start_epoch, start_step=start_step, meta=meta,
            all_reduce=_ddp_all_reduce(world) if world > 1 else None, world_size=world)
        restore_progress(trainer, state)
        if stop:
            trainer.request_stop(stop[0])
        emitter.emit("started", run_dir=str(run_dir), template=cfg.template, task="embedder",
                     device=str(device), world_size=world, epochs=hp.epochs,
                     steps_per_epoch=steps_per_epoch, train_images=len(train_idx),
                     val_images=len(val_idx), class_names=data.class_names,
                     excluded_classes=data.excluded, multi_tagged_images=data.multi_tagged,
                     hparams=hpmod.to_dict(hp), start_epoch=start_epoch,
                     resumed_from=str(last) if state is not None else None)
        outcome = trainer.train()
        p1 = trainer.best_score[0] if evaluate_fn is not None and trainer.best_score else None
        return report_outcome(emitter, trainer, outcome, last, best_map=None,
                              best_precision_at_1=p1)
    except Exception:  # every failure becomes an event; the caller decides the exit
        return report_failure(emitter, trainer)
    finally:
        teardown(restore, world)
