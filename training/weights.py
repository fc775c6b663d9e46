"""Offline pretrained weights: torchvision's weights API reads the torch hub cache
(``$TORCH_HOME/hub/checkpoints``) before it tries to download, so a file placed there
is used as is. Nothing here ever touches the network.
"""
from __future__ import annotations

import hashlib
import os
import sys
import re
import shutil
from pathlib import Path
from typing import Any

# torchvision names its files ``<name>-<first hex digits of the sha256>.pth``.
_HASH_RE = re.compile(r"-([a-f0-9]{6,})\.")


class WeightsError(RuntimeError):
    """Pretrained weights are missing from the cache or a file is not the expected one."""


def cache_dir() -> Path:
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


def ensure_cached(weights: Any) -> Any:
    """Return ``weights`` (a torchvision weights enum member) if its file is in the hub
    cache; otherwise raise, so no builder ever starts a download."""
    name = os.path.basename(weights.url)
    path = cache_dir() / name
    if not path.is_file():
        raise WeightsError(
            f"pretrained weights {weights} are not on this machine (looked for {path}). "
            f"Get '{name}' and run: python -m training weights import {name}  "
            "(or choose pretrained=none)")
    return weights


def cached_or_none(weights: Any) -> Any | None:
    """``weights`` if its file is in the hub cache, else None with a notice on stderr.

    Kestrel must train offline: a missing pretrained file means a random start (and
    says so in the run's log), not a failed run and never a download.
    """
    try:
        return ensure_cached(weights)
    except WeightsError as exc:
        print(f"notice: {exc}; starting without them", file=sys.stderr, flush=True)
        return None


def _known_files() -> dict[str, str]:
    """torchvision weight file name -> 'Enum.MEMBER', for friendlier reports."""
    import torchvision.models as tvm

    known: dict[str, str] = {}
    for model_name in tvm.list_models():
        try:
            enum = tvm.get_model_weights(model_name)
        except (ValueError, KeyError):
            continue
        for member in enum:
            known[os.path.basename(member.url)] = f"{enum.__name__}.{member.name}"
    return known


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_weights(file: str | Path) -> Path:
    """Check ``file``'s sha256 against the prefix in its torchvision file name and
    copy it into the hub cache. Returns the installed path."""
    file = Path(file)
    if not file.is_file():
        raise WeightsError(f"{file}: no such file")
    m = _HASH_RE.search(file.name)
    if not m:
        raise WeightsError(f"{file.name}: not a torchvision weights file name "
                           "(expected <name>-<sha256 prefix>.pth)")
    digest = sha256_of(file)
    if not digest.startswith(m.group(1)):
        raise WeightsError(f"{file.name}: sha256 {digest[:len(m.group(1))]}... does not "
                           f"match the {m.group(1)} in its name; the file is damaged "
                           "or not the one it claims to be")
    dest = cache_dir() / file.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not (dest.exists() and dest.samefile(file)):
        tmp = dest.with_suffix(dest.suffix + ".part")
        shutil.copyfile(file, tmp)
        os.replace(tmp, dest)
    return dest


def describe_file(name: str) -> str | None:
    return _known_files().get(os.path.basename(name))


def load_weights_file(model: Any, path: str | Path) -> dict[str, list[str]]:
    """Start ``model`` from a state dict file (a plain one or a Kestrel checkpoint):
    tensors whose name and shape match are loaded, the rest (e.g. a head for other
    classes) keep their initial values. Loaded with ``weights_only=True``."""
    from training.checkpoint import load_checkpoint

    state = load_checkpoint(path)
    if isinstance(state.get("model"), dict):
        state = state["model"]
    own = model.state_dict()
    ok = {k: v for k, v in state.items() if k in own and hasattr(v, "shape")
          and v.shape == own[k].shape}
    if not ok:
        raise WeightsError(f"{path}: no tensor matches this model; wrong architecture?")
    model.load_state_dict(ok, strict=False)
    return {"loaded": sorted(ok), "skipped": sorted(set(own) - set(ok))}
