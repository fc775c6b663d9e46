"""Embedder checkpoints: the detector layout (training.checkpoint) with
``format`` = "kestrel.embedder" and the run's ``source`` (tags or boxes)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from training.checkpoint import CheckpointError, load_checkpoint

FORMAT = "kestrel.embedder"


def load_embedder_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    state = load_checkpoint(path, map_location)
    if state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Kestrel embedder checkpoint")
    return state
