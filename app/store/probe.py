"""Media probing: size, kind and content hash from headers, never whole-image decodes.

10,000 images import in seconds because Pillow reads only the header and the hash
covers the file size plus its first and last 64 KiB. Truncated JPEG and PNG files
are caught cheaply by looking for their end marker.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
VIDEO_EXTS = {".mp4", ".avi", ".mkv", ".mov"}
MEDIA_EXTS = IMAGE_EXTS | VIDEO_EXTS
_HASH_CHUNK = 64 * 1024
_EXIF_ORIENTATION = 0x0112
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


class ProbeError(ValueError):
    """Why a file cannot be used as media (corrupt, empty, unsupported…)."""


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    kind: str
    width: int
    height: int
    content_hash: str
    file_size: int
    fps: float | None = None
    frame_count: int | None = None


def quick_hash(path: Path, size: int) -> str:
    h = hashlib.sha1(str(size).encode())
    with open(path, "rb") as f:
        h.update(f.read(_HASH_CHUNK))
        if size > 2 * _HASH_CHUNK:
            f.seek(-_HASH_CHUNK, os.SEEK_END)
            h.update(f.read(_HASH_CHUNK))
    return h.hexdigest()


def discover(paths: Iterable[str | os.PathLike]) -> Iterator[tuple[Path, Path]]:
    """Yield (file, base) for files under ``paths``: base is what names are relative to.

    Folders are walked recursively in sorted order; hidden entries are skipped.
    Unsupported files found inside folders are skipped silently; ones named
    explicitly are yielded so the importer can report them.
    """
    for raw in paths:
        p = Path(raw).expanduser().absolute()
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if not name.startswith(".") and Path(name).suffix.lower() in MEDIA_EXTS:
                        yield Path(dirpath) / name, p
        else:
            yield p, p.parent


def probe(path: Path) -> MediaInfo:
    if not path.is_file():
        raise ProbeError("file not found")
    ext = path.suffix.lower()
    size = path.stat().st_size
    if size == 0:
        raise ProbeError("empty file")
    if ext in IMAGE_EXTS:
        width, height = _probe_image(path, ext, size)
        return MediaInfo(path, "image", width, height, quick_hash(path, size), size)
    if ext in VIDEO_EXTS:
        width, height, fps, frames = probe_video(path)
        return MediaInfo(path, "video", width, height, quick_hash(path, size), size, fps, frames)
    raise ProbeError(f"unsupported file type {ext or '(no extension)'}")


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """Displayed (width, height) of an image, EXIF orientation honoured."""
    p = Path(path)
    return _probe_image(p, p.suffix.lower(), p.stat().st_size)


def _probe_image(path: Path, ext: str, size: int) -> tuple[int, int]:
    """The displayed size, read from the header. The file's content decides its type,
    not its name (a PNG called ``.jpg`` is a PNG); an image too large to decode safely
    (Pillow's decompression-bomb limit) is refused with the reason."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
                kind = (im.format or "").lower()
                orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ProbeError(_bomb(path)) from None
    except UnidentifiedImageError:
        raise ProbeError("not a readable image (unknown or corrupt format)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ProbeError(f"corrupt image: {exc}") from None
    if width <= 0 or height <= 0:
        raise ProbeError("image has no pixels")
    if Image.MAX_IMAGE_PIXELS and width * height > Image.MAX_IMAGE_PIXELS:
        raise ProbeError(_bomb(path, width, height))
    _check_complete(path, {"jpeg": ".jpg", "png": ".png", "mpo": ".jpg"}.get(kind, ext), size)
    if orientation in _ROTATED:
        width, height = height, width
    return width, height


def _bomb(path: Path, width: int | None = None, height: int | None = None) -> str:
    from PIL import Image

    if width is None:
        try:   # the size from the header alone, without Pillow's check
            with open(path, "rb") as f:
                head = f.read(32)
            if head[:8] == b"\x89PNG\r\n\x1a\n":
                width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        except OSError:
            pass
    dims = f"{width} x {height} pixels, " if width else ""
    return (f"image too large to decode safely ({dims}over the {Image.MAX_IMAGE_PIXELS // 1_000_000} "
            "megapixel limit; a possible decompression bomb)")


def _check_complete(path: Path, ext: str, size: int) -> None:
    """Catch truncated JPEG/PNG files from their end marker without decoding them.

    The marker is looked for in the last 64 KiB, not at the very end: real files
    carry padding or maker trailers after it (zero-padded JPEGs are common).
    """
    with open(path, "rb") as f:
        f.seek(max(0, size - _HASH_CHUNK))
        tail = f.read()
    if ext in (".jpg", ".jpeg") and b"\xff\xd9" not in tail:
        raise ProbeError("truncated JPEG (no end-of-image marker)")
    if ext == ".png" and b"IEND" not in tail:
        raise ProbeError("truncated PNG (no IEND chunk)")


def probe_video(path: Path) -> tuple[int, int, float, int]:
    """Size, frame rate and frame count as the video reader sees them: the same
    backend (PyAV) counts the frames, so the timeline and the stored count agree."""
    from app.store.video import VideoError, VideoReader

    try:
        with VideoReader(path, cache_frames=1) as reader:
            width, height = reader.size
            return width, height, reader.fps, reader.frame_count
    except VideoError as exc:
        raise ProbeError(exc.reason) from None
