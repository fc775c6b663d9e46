"""Checkpoints: plain data only (state dicts, numbers, strings, lists, tensors), so
they load with ``torch.load(weights_only=True)`` and never run pickled code.

Layout of a detector checkpoint (``format`` = "kestrel.detector", ``version`` = 1):
template, hparams (dict), class_names, category_ids (COCO ids, same order),
model, optimizer, scheduler, scaler (state dicts), epoch (epochs completed),
step (steps done in the epoch being trained; 0 at an epoch boundary),
metrics (last evaluation), best_map, rng (torch, cuda, numpy, python states).
"""
from __future__ import annotations

import io
import os
import pickle
import random
from pathlib import Path
from typing import Any

FORMAT = "kestrel.detector"
VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint is unreadable, untrusted or not a Kestrel checkpoint."""


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write atomically: a temp file, flushed to the disk (fsync), renamed over
    ``path``, and the rename made durable. A process killed mid-write, a power cut
    or a full disk leaves the previous file whole (Resume uses it) and no file under
    the final name that is not complete. A write that fails raises CheckpointError
    with the reason, and the temp file is removed."""
    import torch

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Serialised in memory first: torch's zip writer reports a full disk as an
        # opaque RuntimeError, a plain file write as OSError(ENOSPC).
        buffer = io.BytesIO()
        torch.save({"format": FORMAT, "version": VERSION, **state}, buffer)
        with open(tmp, "wb") as f:
            f.write(buffer.getbuffer())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise CheckpointError(f"cannot write checkpoint {path}: {_reason(exc)}; "
                              f"the previous {path.name} (if any) is intact") from exc
    return path


def _reason(exc: BaseException) -> str:
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return "the disk is full"
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "the folder is read-only (or not writable by you)"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return                     # Windows cannot open folders; rename is durable there
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    """Load with ``weights_only=True``; a file holding arbitrary Python objects is
    refused with CheckpointError instead of being unpickled."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{path}: refused; it holds arbitrary Python objects, which could run code "
            f"when loaded. Only checkpoints of plain tensors and data are trusted. ({exc})"
        ) from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise CheckpointError(f"{path}: unreadable checkpoint ({exc})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a state dict or Kestrel checkpoint")
    return state


def load_detector_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    return check_detector(load_checkpoint(path, map_location), path)


def check_detector(state: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """``state`` if it is a detector checkpoint this Kestrel can read; CheckpointError if not."""
    if state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Kestrel detector checkpoint")
    if state.get("version", 0) > VERSION:
        raise CheckpointError(f"{path}: checkpoint version {state['version']} is newer "
                              f"than this Kestrel understands ({VERSION})")
    return state


def rng_state() -> dict[str, Any]:
    import numpy as np
    import torch

    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)},
        "python": _to_lists(random.getstate()),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["cached"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def _to_lists(obj: Any) -> Any:
    return [_to_lists(x) for x in obj] if isinstance(obj, tuple) else obj
