"""The Label next queue from what scoring stored (Qt-free, torch-free): cheap enough
to rebuild after every few labels, on a worker thread.

Candidates without a feature vector yet (scoring still running, or a picture that
could not be read) wait at the end of the queue, in media order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.next import select
from app.next.candidates import Key, Pictures, describe, pictures

LENGTH = 200        # items ordered by batches; the rest follow by score
BATCH = 20


@dataclass(frozen=True)
class QueueItem:
    media_id: int
    frame: int
    name: str                 # "photo.jpg" or "clip.mp4 frame 120"
    score: float | None       # uncertainty (None: cold start, or not scored yet)
    reason: str               # "uncertain", "diverse", "random", "by score", "not scored yet"

    @property
    def key(self) -> Key:
        return (self.media_id, self.frame)

    def text(self) -> str:
        how = {"uncertain": "unsure, unlike the labelled ones", "diverse": "unlike the labelled ones",
               "random": "random pick", "by score": "unsure", "not scored yet": "not scored yet"}
        score = f"{self.score:.2f} · " if self.score is not None else ""
        return f"{self.name} — {score}{how.get(self.reason, self.reason)}"

    def to_json(self) -> dict:
        return {"media_id": self.media_id, "frame": self.frame, "name": self.name,
                "score": None if self.score is None else round(self.score, 5),
                "reason": self.reason}


@dataclass
class Queue:
    items: list[QueueItem] = field(default_factory=list)
    run_id: int | None = None
    source: str = ""
    scored: int = 0           # candidates with a score (and a feature vector)
    candidates: int = 0       # pictures not labelled yet
    labelled: int = 0

    @property
    def cold(self) -> bool:
        return self.run_id is None

    def media_ranking(self) -> dict[int, tuple[float, str]]:
        """media id → (higher first, text) for the browser's "most useful next" order;
        a video takes the place of its best frame."""
        out: dict[int, tuple[float, str]] = {}
        n = len(self.items)
        for i, item in enumerate(self.items):
            if item.media_id not in out:
                text = f"next #{i + 1}" + (f" · {item.score:.2f}" if item.score is not None else "")
                out[item.media_id] = (float(n - i), text)
        return out


def build_queue(project, run_id: int | None, source: str, *, length: int = LENGTH,
                batch: int = BATCH, random_share: float = 0.2, seed: int = 0,
                pics: Pictures | None = None, exclude: set[Key] = frozenset()) -> Queue:
    """Rank the pictures not labelled yet (and not in ``exclude``)."""
    from app.next.scoring import load_features

    pics = pics or pictures(project)
    keys, matrix = load_features(project, source)
    row = {k: i for i, k in enumerate(keys)}
    scores = project.next.scores(run_id) if run_id is not None else {}
    cands = [k for k in pics.candidates if k not in exclude]
    ready = [k for k in cands if k in row and (run_id is None or k in scores)]
    waiting = [k for k in cands if k not in set(ready)]
    queue = Queue(run_id=run_id, source=source, scored=len(ready), candidates=len(cands),
                  labelled=len(pics.labelled))
    if ready:
        x = select.prepare(matrix, seed)
        feats = x[[row[k] for k in ready]]
        seeds = x[[row[k] for k in pics.labelled if k in row]] if pics.labelled else x[:0]
        s = np.array([scores[k].score for k in ready]) if run_id is not None else None
        videos = [(m, f, pics.fps[m]) if m in pics.fps else None for m, f in ready]
        picks = select.select_queue(feats, seeds, s, videos, length=length, batch=batch,
                                    random_share=random_share, seed=seed)
        for p in picks:
            key = ready[p.index]
            queue.items.append(QueueItem(key[0], key[1], describe(pics, key),
                                         float(s[p.index]) if s is not None else None, p.reason))
    queue.items += [QueueItem(k[0], k[1], describe(pics, k), None, "not scored yet")
                    for k in waiting]
    return queue
