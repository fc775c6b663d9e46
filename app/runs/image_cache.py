"""The training-size image cache: a run's dataset holds photos at the size its
detector looks at, not at the camera's.

A 12-megapixel JPEG takes ~150 ms to decode here and a detector shrinks it to
~0.3 megapixels anyway, every epoch. When a run's dataset is exported, each image
larger than the template's input (training.sizing) is replaced in the run folder by a
reduced copy (upright, JPEG q95) that is a hard link into
``PROJECT/runs/.image-cache/``, keyed by the content hash of the exported file and
the size; the next run of the project at that size links the same file. The COCO
file keeps boxes and sizes in the original's pixels and records the copy's size as
``kestrel_stored_size``, so the trainer scales boxes on loading and maps predictions
back: metrics stay in original pixels.

Cleaning and bounds: an entry no run folder links any more (its runs deleted) is
removed at the next prune; once the cache holds ``max_bytes`` no entries are added
(the remaining images train from their originals, decoded in JPEG draft mode).
The originals are never written: a reduced copy replaces the run folder's link.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

CACHE_DIR = ".image-cache"
DEFAULT_MAX_MB = 4096          # project setting "image_cache_max_mb" overrides it
JPEG_QUALITY = 95
STORED_SIZE = "kestrel_stored_size"
_TMP = ".kestrel-tmp"


def cache_dir(project_root: str | os.PathLike) -> Path:
    return Path(project_root) / "runs" / CACHE_DIR


def prepare_run_images(project, dataset: Path, template: str, overrides: dict | None) -> dict:
    """Reduce the images of a detector run's exported ``dataset`` (see module doc)."""
    from training.sizing import run_input_fit   # torch-free

    try:
        fit = run_input_fit(template, overrides)
    except (KeyError, ValueError):   # a bad value: the trainer reports it with its name
        fit = None
    if fit is None:
        return {"reduced": 0, "from_cache": 0, "skipped": 0}
    try:
        limit_mb = float(project.settings.get("image_cache_max_mb") or DEFAULT_MAX_MB)
    except ValueError:
        limit_mb = DEFAULT_MAX_MB
    return shrink_dataset(dataset, fit, cache_dir(project.root), max_bytes=int(limit_mb * 2**20))


def shrink_dataset(dataset: Path, fit, cache: Path, *, max_bytes: int = DEFAULT_MAX_MB * 2**20,
                   threads: int | None = None) -> dict:
    """Replace the images of a COCO ``dataset`` folder (annotations.json + images/)
    that ``fit`` would reduce by cached copies; returns counts."""
    coco_path = dataset / "annotations.json"
    doc = json.loads(coco_path.read_text(encoding="utf-8"))
    cache.mkdir(parents=True, exist_ok=True)
    prune(cache)
    budget = _Budget(max_bytes - cache_bytes(cache))
    jobs = [img for img in doc["images"] if STORED_SIZE not in img
            and fit.size(img["width"], img["height"]) != (img["width"], img["height"])]
    counts = {"reduced": 0, "from_cache": 0, "skipped": 0}
    lock = threading.Lock()

    def one(img: dict) -> None:
        outcome = _shrink_one(dataset / "images" / img["file_name"], img, fit, cache, budget)
        with lock:
            counts[outcome] += 1
            if outcome != "skipped":
                img[STORED_SIZE] = list(fit.size(img["width"], img["height"]))

    try:
        with ThreadPoolExecutor(threads or _cores()) as pool:  # Pillow releases the GIL
            for future in [pool.submit(one, img) for img in jobs]:
                future.result()
    finally:  # the files replaced so far must be recorded, whatever stopped the rest
        tmp = coco_path.with_name(coco_path.name + _TMP)
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(tmp, coco_path)
    return counts


def _shrink_one(path: Path, img: dict, fit, cache: Path, budget: "_Budget") -> str:
    from training.images import read_fitted

    size = fit.size(img["width"], img["height"])
    try:
        data = path.read_bytes()          # the file is read once: hashed, then decoded
    except OSError:
        return "skipped"                  # the trainer names the missing file
    key = hashlib.blake2b(data, digest_size=16).hexdigest()
    entry = cache / key[:2] / f"{key[2:]}-{size[0]}x{size[1]}.jpg"
    if _link_into(entry, path):
        return "from_cache"
    try:
        pixels, full = read_fitted(io.BytesIO(data), fit)
    except OSError:
        return "skipped"                  # undecodable: the trainer reports it by name
    if full != (img["width"], img["height"]) or pixels.shape[1::-1] != size:
        return "skipped"                  # the file is not what the dataset says it is
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=JPEG_QUALITY)
    if not budget.take(out.tell()):
        return "skipped"
    _write_atomic(path, out.getvalue())   # replaces the run's link, not the original
    entry.parent.mkdir(exist_ok=True)
    tmp = entry.with_name(entry.name + f".{os.getpid()}.{threading.get_ident()}{_TMP}")
    try:
        os.link(path, tmp)                # born linked by this run: a prune keeps it
    except OSError:                       # no hard links here: the cache keeps a copy
        tmp.write_bytes(out.getvalue())
    os.replace(tmp, entry)
    return "reduced"


def _link_into(entry: Path, path: Path) -> bool:
    """Make ``path`` the cached ``entry`` (a hard link, else a copy); False if absent."""
    tmp = path.with_name(path.name + _TMP)
    try:
        os.link(entry, tmp)
    except FileNotFoundError:
        return False
    except OSError:
        try:
            tmp.write_bytes(entry.read_bytes())
        except FileNotFoundError:
            return False
    os.replace(tmp, path)
    return True


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + _TMP)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def entries(cache: Path) -> list[Path]:
    return [p for p in cache.glob("*/*.jpg")] if cache.is_dir() else []


def cache_bytes(cache: Path) -> int:
    return sum(p.stat().st_size for p in entries(cache))


def prune(cache: Path, stale_tmp_s: float = 3600) -> int:
    """Remove entries no run folder links any more (their runs were deleted) and
    temporary files left by a crash; returns how many files went."""
    removed = 0
    now = time.time()
    for p in entries(cache):
        try:
            if p.stat().st_nlink <= 1:
                p.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    for p in cache.glob(f"*/*{_TMP}") if cache.is_dir() else []:
        try:
            if now - p.stat().st_mtime > stale_tmp_s:
                p.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


class _Budget:
    def __init__(self, left: int):
        self.left, self._lock = left, threading.Lock()

    def take(self, n: int) -> bool:
        with self._lock:
            if n > self.left:
                return False
            self.left -= n
            return True


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
