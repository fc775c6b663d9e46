"""The project's compute choice (the Training tab's *Compute*), kept in its settings
so that *Predict all* and the Search tab's embedding go where training goes."""

from __future__ import annotations

import json

KEY = "compute"


def compute_target(project) -> dict | None:
    """``{"address", "workers", "storage"}`` of the chosen cluster, or None (this machine)."""
    try:
        value = json.loads(project.settings.get(KEY) or "null")
    except (TypeError, ValueError):
        return None
    if not isinstance(value, dict) or not value.get("address"):
        return None
    return {"address": str(value["address"]), "workers": int(value.get("workers") or 2),
            "storage": value.get("storage") or None}


def set_compute_target(project, target: dict | None) -> None:
    project.settings.set(KEY, json.dumps(target) if target else "")
