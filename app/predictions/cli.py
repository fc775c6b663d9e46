"""``kestrel predict PROJECT --run RUN [--media ...] [--coco-results FILE]``.

Stores the run's predictions in the project (the same cache the window uses, so the
window shows them at once) and can write them as a COCO results JSON whose image and
category ids are those of ``kestrel export --format coco --include-unlabelled``.
"""

from __future__ import annotations

import sys

from app.predictions.core import (PredictError, all_items, load_model, missing_classes,
                                  predict_items, write_coco_results)
from app.store.project import Project


def predict(project_dir: str, run_id: int, media: list[str] | None = None,
            coco_results: str | None = None, device: str = "auto", quiet: bool = False,
            score: float = 0.05, add_classes: bool = False) -> int:
    with Project.open(project_dir) as project:
        try:
            project.runs.get(run_id)
        except KeyError:
            raise PredictError(f"no run #{run_id} in this project (see `kestrel runs`)") from None
        items = all_items(project)
        if media:
            wanted = set()
            for token in media:
                hit = [m.id for m in project.media.list() if m.name == token or str(m.id) == token]
                if not hit:
                    raise PredictError(f"no media item named {token!r}")
                wanted.update(hit)
            items = [i for i in items if i[0] in wanted]
        model = load_model(project, run_id, device, score)
        missing = missing_classes(project, list(model.class_names))
        if missing and add_classes:
            for name in missing:
                project.classes.add(name)
            print(f"added classes the model knows: {', '.join(missing)}", file=sys.stderr)
        elif missing:
            print(f"the project has no class {', '.join(map(repr, missing))}: those predictions "
                  "are left out (add the classes, or use --add-classes)", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            if not quiet:
                print(f"\rpredicted {done}/{total}", end="", file=sys.stderr, flush=True)

        done = predict_items(project, run_id, model, items, progress)
        if not quiet and done:
            print(file=sys.stderr)
        print(f"run #{run_id}: {done} frame(s) predicted, {len(items) - done} already cached")
        if coco_results:
            n = write_coco_results(project, run_id, coco_results, items)
            print(f"wrote {n} detections to {coco_results}")
    return 0
