"""``kestrel next``, ``kestrel suspects`` and ``kestrel duplicates``: what to label
next, probable label errors and near-duplicate images, from a terminal.

Machine-readable answers (``--json``) go to stdout; progress goes to stderr. Scoring
and predicting run in this process (it may import torch; the window runs them in a
child process instead).
"""

from __future__ import annotations

import json
import sys


class NextError(ValueError):
    """A user error, reported by ``kestrel`` as one line with exit code 2."""


def add_next_parsers(sub) -> None:
    s = sub.add_parser("next", help="what to label next: the pictures that would teach the "
                       "model most (uncertain and unlike the labelled ones)")
    s.add_argument("project")
    s.add_argument("--run", default=None, help="detector run (default: the active model; "
                   "'none': no model, diversity alone)")
    s.add_argument("--embedder", type=int, default=None, help="embedder run whose embeddings "
                   "measure diversity (default: the detector's own features)")
    s.add_argument("-n", type=int, default=50, help="how many (default 50)")
    s.add_argument("--random-share", type=float, default=0.2, help="share of random picks")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default="auto")
    s.add_argument("--json", action="store_true")
    s.add_argument("--quiet", action="store_true", help="no progress display")

    s = sub.add_parser("suspects", help="probable label errors: where labels and a model that "
                       "did not see them disagree")
    s.add_argument("project")
    s.add_argument("--run", type=int, required=True, help="detector run (its validation split, "
                   "or its folds)")
    s.add_argument("--folds", type=int, default=0, help="cross-check every labelled picture: "
                   "train K runs of RUN's template, each holding one fold out (K >= 2)")
    s.add_argument("-n", type=int, default=50, help="how many (default 50; 0: all)")
    s.add_argument("--device", default="auto")
    s.add_argument("--json", action="store_true")
    s.add_argument("--quiet", action="store_true")

    s = sub.add_parser("duplicates", help="near-duplicate images, optionally kept on one side "
                       "of every training split")
    s.add_argument("project")
    s.add_argument("--run", default=None, help="whose features (default: as `kestrel next`)")
    s.add_argument("--embedder", type=int, default=None)
    s.add_argument("--threshold", type=float, default=0.95, help="cosine similarity (0-1)")
    s.add_argument("--keep-together", action="store_true",
                   help="store the groups: training splits keep each group on one side")
    s.add_argument("--device", default="auto")
    s.add_argument("--json", action="store_true")
    s.add_argument("--quiet", action="store_true")


def _open(path: str):
    from app.store.project import Project

    return Project.open(path)


def resolve_run(project, text) -> int | None:
    """--run: a run id, 'none', or (None) the active model / newest finished detector."""
    from app.runs.records import model_path

    if text is not None and str(text).lower() == "none":
        return None
    if text is None:
        active = project.settings.get("active_run")
        if active and active.isdigit():
            text = active
        else:
            done = [r.id for r in project.runs.all() if r.task == "detector"
                    and r.status == "finished" and model_path(project, r.id)]
            return max(done) if done else None
    try:
        run_id = int(text)
        run = project.runs.get(run_id)
    except (ValueError, KeyError):
        raise NextError(f"no run {text!r} in this project (see `kestrel runs`)") from None
    if run.task != "detector":
        raise NextError(f"run #{run_id} is a {run.task}, not a detector")
    if model_path(project, run_id) is None:
        raise NextError(f"run #{run_id} has no checkpoint (best.pt or last.pt) yet")
    return run_id


def _progress(quiet: bool, what: str):
    def show(done: int, total: int) -> None:
        if not quiet and total:
            print(f"\r{what} {done}/{total}", end="", file=sys.stderr, flush=True)
    return show


def _score(project, run_id, embedder, device, quiet) -> dict:
    from app.next.scoring import ScoringError, score_project

    try:
        counts = score_project(project, run_id, embedder, device=device,
                               progress=_progress(quiet, "scored"))
    except ScoringError as exc:
        raise NextError(str(exc)) from None
    if not quiet and counts["total"]:
        print(file=sys.stderr)
    return counts


def cmd_next(args) -> int:
    from app.next.ranking import build_queue

    with _open(args.project) as project:
        run_id = resolve_run(project, args.run)
        counts = _score(project, run_id, args.embedder, args.device, args.quiet)
        queue = build_queue(project, run_id, counts["source"], length=max(args.n, 1),
                            random_share=args.random_share, seed=args.seed)
    items = queue.items[:args.n]
    if args.json:
        print(json.dumps({"run": run_id, "features": queue.source, "candidates": queue.candidates,
                          "labelled": queue.labelled, "items": [i.to_json() for i in items]}))
        return 0
    how = f"run #{run_id}" if run_id is not None else "no model (cold start: diversity alone)"
    print(f"{queue.candidates} pictures not labelled, {queue.labelled} labelled; {how}, "
          f"features {queue.source}")
    for i, item in enumerate(items, 1):
        print(f"{i:4d}  {item.text()}")
    return 0


def cmd_suspects(args) -> int:
    from app.next.suspects import find_suspects, predict_held_out

    with _open(args.project) as project:
        run_id = resolve_run(project, args.run)
        if args.folds:
            _cross_check(project, run_id, args.folds, args.device, args.quiet)
        predict_held_out(project, run_id, device=args.device,
                         progress=_progress(args.quiet, "predicted"))
        suspects, checked, _missing = find_suspects(project, run_id)
        names = {m.id: m.name for m in project.media.list()}
    shown = suspects[:args.n] if args.n else suspects
    if args.json:
        print(json.dumps({"run": run_id, "checked": checked,
                          "suspects": [s.to_json(names.get(s.media_id, "")) for s in shown]}))
        return 0
    if not args.quiet:
        print(file=sys.stderr)
    print(f"{checked} labelled pictures checked by a model that did not train on them; "
          f"{len(suspects)} suspects")
    for i, s in enumerate(shown, 1):
        frame = f" frame {s.frame}" if s.frame else ""
        print(f"{i:4d}  {s.weight:.2f}  {names.get(s.media_id, s.media_id)}{frame}: {s.text}")
    return 0


def _cross_check(project, run_id: int, k: int, device: str, quiet: bool) -> None:
    """Train the folds of a cross-check that are not finished yet (one after another)."""
    from app.next.folds import folds_of, prepare_fold
    from app.runs.cli import _follow

    if k < 2:
        raise NextError("--folds needs at least 2 folds")
    done = {r.dataset.get("fold") for r in folds_of(project, run_id)
            if r.status == "finished" and r.dataset.get("folds") == k}
    for fold in range(k):
        if fold in done:
            continue
        launch = prepare_fold(project, run_id, fold, k, device=None if device == "auto" else device)
        print(f"fold {fold + 1}/{k}: run #{launch.run_id}", file=sys.stderr)
        try:
            _follow(project, launch.run_id, launch.argv, quiet, launch.lock)
        finally:
            launch.lock.release()


def cmd_duplicates(args) -> int:
    from app.next.duplicates import find_duplicates

    with _open(args.project) as project:
        run_id = resolve_run(project, args.run)
        counts = _score(project, run_id, args.embedder, args.device, args.quiet)
        groups = find_duplicates(project, counts["source"], args.threshold)
        if args.keep_together:
            project.next.set_groups(groups)
        names = {m.id: m.name for m in project.media.list()}
    if args.json:
        print(json.dumps({"threshold": args.threshold, "features": counts["source"],
                          "kept_together": args.keep_together,
                          "groups": [[{"media_id": m, "name": names[m]} for m in g]
                                     for g in groups]}))
        return 0
    print(f"{len(groups)} groups of near-duplicates (similarity >= {args.threshold})"
          + ("; kept on one side of training splits" if args.keep_together else ""))
    for g in groups:
        print("  " + ", ".join(names[m] for m in g))
    return 0


NEXT_COMMANDS = {"next": cmd_next, "suspects": cmd_suspects, "duplicates": cmd_duplicates}
