"""VideoReader speed: random seeks in 1080p H.264, sequential decode of 720p H.264.

Run: python tests/benchmarks/bench_video.py [--seeks N]
Clips are encoded with libx264 (veryfast, B-frames) from imageio-ffmpeg's ffmpeg
binary, for several keyframe intervals (GOP), since a seek has to decode from the
keyframe before the target; the real clip ../shared/data/videos/bottle-detection.mp4
is measured too. Skips (exit 0, a message) when neither encoder nor clip is there.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.store.video import VideoReader  # noqa: E402

REAL_CLIP = ROOT.parent / "shared" / "data" / "videos" / "bottle-detection.mp4"


def ffmpeg() -> str | None:
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:
        return None


def encode(exe: str, out: Path, size: str, seconds: int, gop: int | None, fps: int = 30) -> Path:
    cmd = [exe, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}",
           "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    if gop:
        cmd += ["-g", str(gop)]
    subprocess.run(cmd + [str(out)], check=True)
    return out


def random_seeks(path: Path, n: int, seed: int = 0) -> tuple[float, float, int]:
    """Median and p95 (ms) of ``frame(i)`` for random i, no cache help; frame count."""
    with VideoReader(path, cache_frames=1) as reader:
        rng = random.Random(seed)
        times = []
        for index in rng.sample(range(reader.frame_count), min(n, reader.frame_count)):
            t = time.perf_counter()
            reader.frame(index)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        return statistics.median(times), times[int(0.95 * (len(times) - 1))], reader.frame_count


def sequential(path: Path) -> tuple[float, float]:
    """Decoded frames per second when playing frame after frame; the clip's fps."""
    with VideoReader(path, cache_frames=4) as reader:
        t = time.perf_counter()
        for index in range(reader.frame_count):
            reader.frame(index)
        return reader.frame_count / (time.perf_counter() - t), reader.fps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeks", type=int, default=40)
    args = parser.parse_args()
    exe = ffmpeg()
    if exe is None and not REAL_CLIP.is_file():
        print("skipped: no imageio-ffmpeg to encode clips and no real clip")
        return 0
    import av
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"PyAV {av.__version__} (libavcodec {av.library_versions['libavcodec']}), "
          f"load average {os.getloadavg()[0]:.1f}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if exe:
            for gop in (10, 30, None):
                name = f"1080p H.264, GOP {gop or 250} (x264 default)" if gop is None else \
                    f"1080p H.264, GOP {gop}"
                clip = encode(exe, Path(tmp) / f"seek_{gop}.mp4", "1920x1080", 10, gop)
                med, p95, n = random_seeks(clip, args.seeks)
                rows.append(f"| random seek | {name}, {n} frames | {med:.0f} ms | {p95:.0f} ms |")
                print(rows[-1], flush=True)
                if gop == 10:  # what each frame a seek decodes costs
                    rate, _ = sequential(clip)
                    rows.append(f"| sequential decode | {name} | {rate:.0f} frames/s | "
                                f"{1000 / rate:.1f} ms a frame |")
                    print(rows[-1], flush=True)
            clip = encode(exe, Path(tmp) / "play720.mp4", "1280x720", 10, None)
            rate, fps = sequential(clip)
            rows.append(f"| sequential decode | 720p H.264 | {rate:.0f} frames/s | clip {fps:g} fps "
                        f"({rate / fps:.1f}x real time) |")
            print(rows[-1], flush=True)
        if REAL_CLIP.is_file():
            med, p95, n = random_seeks(REAL_CLIP, args.seeks)
            rows.append(f"| random seek | bottle-detection.mp4 (640x360 H.264, GOP 250), {n} frames "
                        f"| {med:.0f} ms | {p95:.0f} ms |")
            print(rows[-1], flush=True)
            rate, fps = sequential(REAL_CLIP)
            rows.append(f"| sequential decode | bottle-detection.mp4 | {rate:.0f} frames/s | "
                        f"clip {fps:.2f} fps ({rate / fps:.1f}x real time) |")
            print(rows[-1], flush=True)
    print("\n| what | clip | median / rate | p95 / vs clip |\n| --- | --- | ---: | ---: |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
