"""Scoring a project for Label next: the work of the background job (``app.next.job``,
a child process) and of ``kestrel next``. Qt-free; torch is imported only when a
model is loaded, here, never by the window.

For the active detector run, every picture not labelled yet gets an uncertainty score
(``app.next.uncertainty``: the model on the picture and on its flip) and every
picture, labelled or not, a feature vector for diversity. Its detections are stored
as the run's predictions (what ``kestrel predict`` stores), so a picture opened from
the queue shows its proposals at once. Everything is cached per model: a run scores
what it has not scored yet, so newly imported media cost only themselves.

Features come from the active embedder run when there is one (stored with the
search's embeddings, so visual search reuses them), else from the detector's pooled
backbone (``run:<id>``); with no model at all (cold start), from an ImageNet
MobileNetV2 when its weights are on this machine, else from small thumbnails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from app.next.candidates import Key, Pictures, pictures
from app.next.uncertainty import picture_uncertainty
from app.store.models import EmbeddingKey
from app.store.repos.next import Score

THUMB = 16     # the cold-start fallback: THUMB x THUMB colour thumbnails


class ScoringError(RuntimeError):
    """A user-facing problem: no checkpoint, not a detector, …"""


def feature_source(project, run_id: int | None, embedder_run: int | None = None) -> str:
    """Where diversity features come from: 'embedder:<id>', 'run:<id>', 'imagenet' or
    'pixels'."""
    if embedder_run is not None:
        return f"embedder:{embedder_run}"
    if run_id is not None:
        return f"run:{run_id}"
    from training.active import ImageNetFeatures   # torch: only where scoring runs

    return "imagenet" if ImageNetFeatures.available() else "pixels"


def load_features(project, source: str) -> tuple[list[Key], np.ndarray]:
    """Stored feature vectors of ``source`` as (keys, matrix)."""
    if source.startswith("embedder:"):
        keys, vectors = project.embeddings.load(int(source.split(":")[1]), ["image", "frame"])
        return [(k.media_id, k.frame) for k in keys], vectors
    return project.next.features(source)


def featured(project, source: str) -> set[Key]:
    return set(load_features(project, source)[0]) if source.startswith("embedder:") \
        else project.next.featured(source)


@dataclass
class Plan:
    pics: Pictures
    source: str
    score: list[Key] = field(default_factory=list)     # need an uncertainty score
    feature: list[Key] = field(default_factory=list)   # need only a feature vector

    @property
    def todo(self) -> list[tuple[Key, bool]]:
        """(picture, needs a score), in media and frame order (videos decode forward)."""
        need = {k: True for k in self.score}
        need.update({k: False for k in self.feature if k not in need})
        return sorted(need.items())

    @property
    def total(self) -> int:
        return len(self.todo)


def plan(project, run_id: int | None, embedder_run: int | None = None,
         source: str | None = None) -> Plan:
    pics = pictures(project)
    source = source or feature_source(project, run_id, embedder_run)
    have = featured(project, source)
    out = Plan(pics, source)
    if run_id is not None:
        scored = project.next.scored(run_id)
        out.score = [k for k in pics.candidates if k not in scored]
        if source == f"run:{run_id}":      # the same pass gives the features of those
            have = have | set(out.score)
    out.feature = [k for k in pics.keys if k not in have]
    return out


def thumbnail_features(frames) -> np.ndarray:
    """Cold-start fallback: small colour thumbnails, centred, unit length."""
    import cv2

    out = []
    for f in frames:
        t = cv2.resize(np.ascontiguousarray(f[..., :3]), (THUMB, THUMB),
                       interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
        t -= t.mean()
        out.append(t / max(float(np.linalg.norm(t)), 1e-6))
    return np.array(out, np.float32).reshape(len(out), THUMB * THUMB * 3)


class _Models:
    """The models of one scoring job, loaded on first use."""

    def __init__(self, project, run_id, embedder_run, source, device):
        self.project, self.run_id, self.embedder_run = project, run_id, embedder_run
        self.source, self.device = source, device
        self._scorer = self._features = None

    def scorer(self):
        if self._scorer is None:
            from app.runs.records import model_path
            from training.active import ActiveScorer

            path = model_path(self.project, self.run_id)
            if path is None:
                raise ScoringError(f"run #{self.run_id} has no checkpoint (best.pt or last.pt)")
            self._scorer = ActiveScorer(path, device=self.device)
        return self._scorer

    def features(self, frames) -> np.ndarray:
        if self.source == "pixels":
            return thumbnail_features(frames)
        if self._features is None:
            if self.source == "imagenet":
                from training.active import ImageNetFeatures

                self._features = ImageNetFeatures(self.device).embed
            elif self.source.startswith("embedder:"):
                from app.search.embeddings import load_embedder

                self._features = load_embedder(self.project, self.embedder_run,
                                               "cpu" if self.device == "auto" else self.device).embed
            else:
                raise ScoringError(f"no way to compute features of source {self.source!r}")
        return self._features(frames)


def score_project(project, run_id: int | None, embedder_run: int | None = None, *,
                  device: str = "auto", batch_size: int = 4,
                  progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] = lambda: False) -> dict:
    """Score and embed what is missing; returns counts (scored, featured, failed,
    total, cancelled, source)."""
    from app.predictions.core import class_ids_for, to_rows
    from app.store.pictures import PictureReader

    work = plan(project, run_id, embedder_run)
    todo = work.todo
    counts = {"scored": 0, "featured": 0, "failed": 0, "total": len(todo), "cancelled": 0,
              "source": work.source}
    if progress:
        progress(0, len(todo))
    if not todo:
        return counts
    models = _Models(project, run_id, embedder_run, work.source, device)
    class_ids = None
    done = 0
    with PictureReader(project) as reader:
        for start in range(0, len(todo), batch_size):
            if cancelled():
                counts["cancelled"] = 1
                break
            chunk, frames = [], []
            for key, needs_score in todo[start:start + batch_size]:
                try:
                    frames.append(reader.read(*key))
                    chunk.append((key, needs_score))
                except Exception:   # an unreadable picture is listed elsewhere; go on
                    counts["failed"] += 1
            feats: dict[Key, np.ndarray] = {}
            if chunk and run_id is not None and any(s for _k, s in chunk):
                scorer = models.scorer()
                if class_ids is None:
                    class_ids = class_ids_for(project, list(scorer.class_names))
                picked = [(k, f) for (k, s), f in zip(chunk, frames) if s]
                answers = scorer.run([f for _k, f in picked], flip=True, batch_size=batch_size)
                rows = []
                for (key, _f), a in zip(picked, answers):
                    u = picture_uncertainty(a.boxes, a.labels, a.scores, a.flip_boxes,
                                            a.flip_labels, a.flip_scores, len(scorer.class_names))
                    rows.append(Score(key[0], key[1], u.score, u.entropy, u.instability, u.boxes))
                    if not project.predictions.has(run_id, *key):   # proposals keep their ids
                        project.predictions.store(run_id, *key, to_rows(a, class_ids))
                    if a.feature is not None and work.source == f"run:{run_id}":
                        feats[key] = a.feature
                project.next.put_scores(run_id, rows)
                counts["scored"] += len(rows)
            rest = [(k, f) for (k, _s), f in zip(chunk, frames) if k not in feats]
            if rest and work.source == f"run:{run_id}":
                for (key, _f), a in zip(rest, models.scorer().run([f for _k, f in rest], flip=False,
                                                                  batch_size=batch_size)):
                    if a.feature is not None:
                        feats[key] = a.feature
            elif rest:
                for (key, _f), v in zip(rest, models.features([f for _k, f in rest])):
                    feats[key] = v
            _store_features(project, work.source, feats)
            counts["featured"] += len(feats)
            done += len(todo[start:start + batch_size])
            if progress:
                progress(done, len(todo))
    return counts


def _store_features(project, source: str, feats: dict[Key, np.ndarray]) -> None:
    if not feats:
        return
    if source.startswith("embedder:"):
        videos = set(project.media.ids_of_kind("video"))
        project.embeddings.put(int(source.split(":")[1]), [
            (EmbeddingKey("frame" if m in videos else "image", m, f if m in videos else 0), "", v)
            for (m, f), v in feats.items()])
    else:
        project.next.put_features(source, [(m, f, v) for (m, f), v in feats.items()])
