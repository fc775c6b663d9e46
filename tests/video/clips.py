"""Generated clips whose every frame carries its own index as a pattern of blocks.

Black/white blocks survive lossy codecs, so a decoded frame can be read back to the
index it was made from; that is how the tests check frame-accurate seeking.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np

COLS, ROWS = 4, 4  # 16 bits: up to 65,535 frames


def pattern(index: int, width: int, height: int) -> np.ndarray:
    """A BGR frame showing ``index`` in binary (bit 0 top-left, row-major)."""
    img = np.zeros((height, width, 3), np.uint8)
    bw, bh = width // COLS, height // ROWS
    for bit in range(COLS * ROWS):
        if index >> bit & 1:
            r, c = divmod(bit, COLS)
            img[r * bh:(r + 1) * bh, c * bw:(c + 1) * bw] = 255
    return img


def read_index(frame: np.ndarray) -> int:
    """The index a decoded ``pattern`` frame shows (block centres, so edges may blur)."""
    height, width = frame.shape[:2]
    bw, bh = width // COLS, height // ROWS
    grey = frame.mean(axis=2) if frame.ndim == 3 else frame
    value = 0
    for bit in range(COLS * ROWS):
        r, c = divmod(bit, COLS)
        centre = grey[r * bh + bh // 4:(r + 1) * bh - bh // 4, c * bw + bw // 4:(c + 1) * bw - bw // 4]
        if centre.mean() > 128:
            value |= 1 << bit
    return value


def write_cv2(path: Path, fourcc: str, frames: int, size=(160, 120), fps: float = 30.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"cv2.VideoWriter cannot write {fourcc}")
    for i in range(frames):
        writer.write(pattern(i, *size))
    writer.release()
    return path


def ffmpeg_exe() -> str | None:
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:
        return None


def write_h264(path: Path, frames: int, size=(160, 120), fps: float = 30.0, gop: int = 12,
               source=None) -> Path:
    """Encode with libx264 (B-frames on) from imageio-ffmpeg's binary.

    ``source(i)`` makes frame ``i`` (BGR); the index pattern by default.
    """
    exe = ffmpeg_exe()
    if exe is None:
        raise RuntimeError("imageio-ffmpeg is not installed")
    width, height = size
    cmd = [exe, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}",
           "-r", str(fps), "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
           "-g", str(gop), "-bf", "2", str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    make = source or (lambda i: pattern(i, width, height))
    for i in range(frames):
        proc.stdin.write(np.ascontiguousarray(make(i)).tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed to encode {path}")
    return path
