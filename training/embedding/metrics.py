"""Retrieval metrics of embeddings (pml's AccuracyCalculator): precision@1,
R-precision and MAP@R, plus precision@1 per class for the ``metrics`` event."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import torch

KEYS = {"precision_at_1": "precision_at_1", "r_precision": "r_precision",
        "map_at_r": "mean_average_precision_at_r"}


@torch.inference_mode()
def embed_batches(model: torch.nn.Module, loader: Iterable, device: torch.device,
                  amp: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) normalised float32 embeddings and (N,) labels of a (images, targets) loader."""
    model.eval()
    out, labels = [], []
    for images, targets in loader:
        x = torch.stack(list(images)).to(device, non_blocking=True)
        with torch.autocast(device.type, enabled=amp):
            emb = model(x)
        out.append(emb.float().cpu())
        labels += [int(t["label"]) for t in targets]
    dim = getattr(getattr(model, "head", None), "out_features", 0)
    emb = torch.cat(out).numpy() if out else np.zeros((0, dim), np.float32)
    return emb.astype(np.float32), np.asarray(labels, dtype=np.int64)


def retrieval_metrics(query: np.ndarray, query_labels: np.ndarray,
                      reference: np.ndarray | None = None,
                      reference_labels: np.ndarray | None = None,
                      class_names: list[str] | None = None) -> dict[str, Any]:
    """Metrics of ``query`` against ``reference`` (default: the queries themselves,
    each query's own row excluded). When ``reference`` is given it must contain the
    queries first (rows 0..len(query)-1), as the evaluation builds it."""
    from pytorch_metric_learning.distances import CosineSimilarity
    from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator
    from pytorch_metric_learning.utils.inference import CustomKNN

    same = reference is None
    if same:
        reference, reference_labels = query, query_labels
    calc = AccuracyCalculator(include=tuple(KEYS.values()), k="max_bin_count",
                              device=torch.device("cpu"),
                              # exact cosine kNN in torch: faiss is optional
                              knn_func=CustomKNN(CosineSimilarity()), kmeans_func=None)
    acc = calc.get_accuracy(torch.from_numpy(query), torch.from_numpy(query_labels),
                            torch.from_numpy(reference), torch.from_numpy(reference_labels),
                            ref_includes_query=True)
    out: dict[str, Any] = {k: float(acc[v]) for k, v in KEYS.items()}
    # per-class precision@1 from the same nearest neighbours (self excluded)
    sims = query @ reference.T
    sims[np.arange(len(query)), np.arange(len(query))] = -np.inf
    hit = reference_labels[sims.argmax(axis=1)] == query_labels
    names = class_names or [str(i) for i in range(int(query_labels.max(initial=-1)) + 1)]
    out["per_class"] = {n: (float(hit[query_labels == i].mean())
                            if (query_labels == i).any() else None)
                        for i, n in enumerate(names)}
    return out
