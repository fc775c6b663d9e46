"""The background scoring job: ``python -m app.next.job PROJECT [--run RUN]
[--embedder RUN]``, a child process of the window (with ``--held-out``: predicting the
labelled pictures a run did not train on, for probable label errors).

It is a process, not a thread: importing torch and running a model on a Python
thread of the window would hold the interpreter lock for long stretches and stall
its event loop. The job opens the project itself (another writer, as ``kestrel
predict`` is), scores what is missing (``app.next.scoring``) and prints one JSON
line per batch on stdout: ``{"event": "progress", "done": N, "total": T}``, then
``{"event": "finished", ...counts}`` or ``{"event": "failed", "message": ...}``.
SIGTERM or SIGINT stops it between batches (what it scored is kept).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys


def argv(root, run_id: int | None, embedder_run: int | None = None,
         device: str = "auto") -> list[str]:
    """The job's command line (for the window)."""
    out = [sys.executable, "-m", "app.next.job", str(root), "--device", device]
    if run_id is not None:
        out += ["--run", str(run_id)]
    if embedder_run is not None:
        out += ["--embedder", str(embedder_run)]
    return out


def main(args: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.next.job")
    p.add_argument("project")
    p.add_argument("--run", type=int, default=None)
    p.add_argument("--embedder", type=int, default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--held-out", action="store_true", help="instead of scoring: predict the "
                   "labelled pictures RUN (or its folds) did not train on (label errors)")
    a = p.parse_args(args)
    out, sys.stdout = sys.stdout, sys.stderr    # stdout carries JSON lines only
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))
    if hasattr(os, "nice"):
        try:
            os.nice(5)       # the window's event loop comes first on a small machine
        except OSError:
            pass

    def emit(obj: dict) -> None:
        out.write(json.dumps(obj) + "\n")
        out.flush()

    try:
        from app.next.scoring import score_project
        from app.store.project import Project

        with Project.open(a.project) as project:
            if a.held_out:
                from app.next.suspects import predict_held_out

                done = predict_held_out(
                    project, a.run, device=a.device, cancelled=lambda: bool(stop),
                    progress=lambda d, t: emit({"event": "progress", "done": d, "total": t}))
                emit({"event": "finished", "predicted": done})
                return 0
            counts = score_project(
                project, a.run, a.embedder, device=a.device, batch_size=a.batch_size,
                progress=lambda d, t: emit({"event": "progress", "done": d, "total": t}),
                cancelled=lambda: bool(stop))
        emit({"event": "finished", **counts})
        return 0
    except Exception as exc:     # reported to the window as one line
        emit({"event": "failed", "message": f"{type(exc).__name__}: {exc}"})
        return 2
    finally:
        sys.stdout = out


if __name__ == "__main__":
    sys.exit(main())
