"""Pretrained weights: torchvision's weights API over the torch hub cache
(``$TORCH_HOME/hub/checkpoints``), which torchvision reads before it would download.

A template's start (``pretrained=coco|imagenet``) names a torchvision weights enum
member (training.weights_catalog). When its file is missing:

* downloading allowed (``KESTREL_ALLOW_DOWNLOAD=1``; ``--allow-download``; the
  window's setting): it is fetched into the cache with progress and torchvision's
  hash check, from ``KESTREL_WEIGHTS_MIRROR`` when set (same file names), else from
  torchvision's own address;
* otherwise, or when the fetch fails: a notice and the next start down
  (COCO detector -> ImageNet backbone -> random), never a failed run.

``python -m training weights import FILE`` puts a file got by other means in place.
Torch-free at import: the window asks for the state of every file at start-up.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from training.download import DownloadError, download
from training.weights_catalog import (DEFAULT_BASE_URL, FALLBACK, FILES, START_LABELS, enum_member,
                                      file_of)

ENV_ALLOW = "KESTREL_ALLOW_DOWNLOAD"
ENV_MIRROR = "KESTREL_WEIGHTS_MIRROR"
# torchvision names its files ``<name>-<first hex digits of the sha256>.pth``.
_HASH_RE = re.compile(r"-([a-f0-9]{6,})\.")


class WeightsError(RuntimeError):
    """Pretrained weights are missing from the cache or a file is not the expected one."""


@dataclass(frozen=True)
class Policy:
    """Whether a missing file may be fetched, and from where."""

    allow_download: bool = False
    mirror: str | None = None        # a base URL serving torchvision's file names

    @classmethod
    def from_env(cls, env: Any = None) -> "Policy":
        env = os.environ if env is None else env
        allow = str(env.get(ENV_ALLOW, "")).strip().lower() in ("1", "true", "yes", "on")
        return cls(allow, (env.get(ENV_MIRROR) or "").strip() or None)

    def env(self) -> dict[str, str]:
        """The variables that hand this policy to a trainer process."""
        out = {ENV_ALLOW: "1" if self.allow_download else "0"}
        if self.mirror:
            out[ENV_MIRROR] = self.mirror
        return out

    def url(self, ref: str) -> str:
        base = self.mirror or DEFAULT_BASE_URL
        return base.rstrip("/") + "/" + file_of(ref)


def cache_dir() -> Path:
    """torch.hub's checkpoint folder, found as torch finds it but without importing
    torch. Once torch.hub is loaded, from torch.hub (which honours ``set_dir``); never
    an import here: the window asks this on its own thread while a worker thread may be
    importing torch, and two threads importing torch at once fail ("KeyError: 'torch'",
    seen in the test suite) or wait on each other."""
    hub = sys.modules.get("torch.hub")
    if hub is not None and hasattr(hub, "get_dir"):
        return Path(hub.get_dir()) / "checkpoints"
    home = os.getenv("TORCH_HOME") or os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"),
                                                    "torch")
    return Path(os.path.expanduser(home)) / "hub" / "checkpoints"


def cached_path(ref: str) -> Path:
    return cache_dir() / file_of(ref)


def state(ref: str, policy: Policy | None = None) -> str:
    """"present" (in the cache), "downloadable" (missing, fetching allowed) or "missing"."""
    policy = policy or Policy.from_env()
    if cached_path(ref).is_file():
        return "present"
    return "downloadable" if policy.allow_download else "missing"


# -- what a run reports about its weights ----------------------------------------------------
_reporter: Callable[[dict[str, Any]], None] | None = None


@contextmanager
def reporting(fn: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """Send weights reports (``{"state", "weights", "file", "message", ...}``) to ``fn``
    while building a model (the trainer makes them ``weights`` events)."""
    global _reporter
    saved, _reporter = _reporter, fn
    try:
        yield
    finally:
        _reporter = saved


def _report(state_: str, ref: str | None, message: str, warn: bool = False,
            **fields: Any) -> None:
    """A line on stderr ("notice: ..." when the run is worse off for it) and, while a
    trainer builds its model, a report for its events."""
    if message:
        print(("notice: " if warn else "") + message, file=sys.stderr, flush=True)
    if _reporter is not None:
        _reporter({"state": state_, "weights": ref, "message": message, "warning": warn,
                   "file": file_of(ref) if ref else None, **fields})


def fetch(ref: str, policy: Policy | None = None,
          progress: Callable[[int, int | None], None] | None = None,
          cancelled: Callable[[], bool] | None = None) -> Path:
    """Download ``ref``'s file into the cache (hash-checked); raise DownloadError."""
    policy = policy or Policy.from_env()
    name = file_of(ref)
    m = _HASH_RE.search(name)
    return download(policy.url(ref), cache_dir() / name, hash_prefix=m.group(1) if m else None,
                    progress=progress, cancelled=cancelled)


def _fetch_reported(ref: str, policy: Policy) -> bool:
    url = policy.url(ref)
    _report("downloading", ref, f"downloading {file_of(ref)} from {url}", done_bytes=0,
            total_bytes=None)
    step = [0.0]

    def progress(done: int, total: int | None) -> None:
        if total and done / total >= step[0] + 0.1:   # every 10%: a readable log
            step[0] = done / total
            _report("downloading", ref, "", done_bytes=done, total_bytes=total)
    try:
        path = fetch(ref, policy, progress)
    except DownloadError as exc:
        _report("failed", ref, f"could not download {file_of(ref)}: {exc}", warn=True)
        return False
    _report("downloaded", ref, f"downloaded {file_of(ref)} into {path.parent}",
            path=str(path))
    return True


def obtain(ref: str, policy: Policy | None = None) -> Any | None:
    """The torchvision weights enum member ``ref`` when its file is (or, downloading
    allowed, could be made) present in the cache; else None, with a notice."""
    policy = policy or Policy.from_env()
    path = cached_path(ref)
    if not path.is_file():
        if not policy.allow_download:
            _report("missing", ref, f"pretrained weights {ref} are not on this machine "
                    f"(looked for {path}). Allow downloads (--allow-download, {ENV_ALLOW}=1, "
                    f"or Model > Weights... in the window), or get '{file_of(ref)}' and run: "
                    "python -m training weights import FILE", warn=True)
            return None
        if not _fetch_reported(ref, policy):
            return None
    return enum_member(ref)


def obtain_start(starts: dict[str, str], requested: str,
                 policy: Policy | None = None) -> tuple[str, Any | None]:
    """(start used, weights enum member or None) for ``pretrained=requested``: the
    requested start, else the next one down that this machine has (or can fetch).
    Ends with one "start" report saying which, and why when it is not the one asked."""
    chain = [s for s in FALLBACK[FALLBACK.index(requested):] if s in starts or s == "none"]
    for start in chain:
        if start == "none":
            break
        weights = obtain(starts[start], policy)
        if weights is not None:
            instead = f" (the {requested} weights are missing)" if start != requested else ""
            _report("start", starts[start], f"starting from the {START_LABELS[start]} weights "
                    f"{starts[start]}{instead}", warn=bool(instead), start=start,
                    requested=requested)
            return start, weights
    if requested != "none":
        _report("start", None, "no pretrained weights for this template on this machine: "
                "starting from random weights (expect a much weaker model)", warn=True,
                start="none", requested=requested)
    return "none", None


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
    """'Enum.MEMBER' for a torchvision weights file name (the templates' files are
    known without torchvision; any other is looked up in its enums)."""
    name = os.path.basename(name)
    known = next((ref for ref, (file, _mb) in FILES.items() if file == name), None)
    if known is not None:
        return known
    import torchvision.models as tvm

    for model_name in tvm.list_models():
        try:
            enum = tvm.get_model_weights(model_name)
        except (ValueError, KeyError):
            continue
        for member in enum:
            if os.path.basename(member.url) == name:
                return f"{enum.__name__}.{member.name}"
    return None


def load_weights_file(model: Any, path: str | Path) -> dict[str, list[str]]:
    """Start ``model`` from a state dict file (a plain one or a Kestrel checkpoint):
    tensors whose name and shape match are loaded, the rest (e.g. a head for other
    classes) keep their initial values. Loaded with ``weights_only=True``."""
    from training.checkpoint import load_checkpoint

    state_ = load_checkpoint(path)
    if isinstance(state_.get("model"), dict):
        state_ = state_["model"]
    own = model.state_dict()
    ok = {k: v for k, v in state_.items() if k in own and hasattr(v, "shape")
          and v.shape == own[k].shape}
    if not ok:
        raise WeightsError(f"{path}: no tensor matches this model; wrong architecture?")
    model.load_state_dict(ok, strict=False)
    return {"loaded": sorted(ok), "skipped": sorted(set(own) - set(ok))}
