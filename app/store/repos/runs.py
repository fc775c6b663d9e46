"""Training runs recorded in a project (the run's files live in its run folder)."""

from __future__ import annotations

import json

from app.store.models import Run
from app.store.repos.base import Repository, now

_COLS = ("id, name, task, template, hyperparameters, run_dir, status, created_at, finished_at, "
         "best_metric, metrics, message, dataset")
_JSON_FIELDS = {"hyperparameters", "metrics", "dataset"}
_EDITABLE = {"name", "run_dir", "status", "finished_at", "best_metric", "metrics", "message",
             "hyperparameters", "dataset"}
STATUSES = ("running", "finished", "cancelled", "failed")


def _run(row) -> Run:
    values = dict(zip(_COLS.split(", "), row))
    for key in _JSON_FIELDS:
        values[key] = json.loads(values[key] or "{}")
    return Run(**values)


class RunRepository(Repository):
    def add(self, *, name: str, task: str, template: str, run_dir: str,
            hyperparameters: dict | None = None, dataset: dict | None = None) -> int:
        with self.db.transaction() as c:
            cur = c.execute(
                "INSERT INTO runs (name, task, template, hyperparameters, run_dir, status, "
                "created_at, dataset) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)",
                (name, task, template, json.dumps(hyperparameters or {}, sort_keys=True),
                 run_dir, now(), json.dumps(dataset or {}, sort_keys=True)))
            return cur.lastrowid

    def update(self, run_id: int, **fields) -> None:
        if "status" in fields:
            if fields["status"] not in STATUSES:
                raise ValueError(f"unknown run status {fields['status']!r}")
            if fields["status"] != "running" and "finished_at" not in fields:
                fields["finished_at"] = now()
        unknown = set(fields) - _EDITABLE
        if unknown:
            raise ValueError(f"cannot edit run fields {sorted(unknown)}")
        values = [json.dumps(v, sort_keys=True) if k in _JSON_FIELDS else v for k, v in fields.items()]
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.db.transaction() as c:
            c.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*values, run_id))

    def get(self, run_id: int) -> Run:
        row = self.db.execute(f"SELECT {_COLS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no run with id {run_id}")
        return _run(row)

    def all(self) -> list[Run]:
        return [_run(r) for r in self.db.execute(f"SELECT {_COLS} FROM runs ORDER BY id")]

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
