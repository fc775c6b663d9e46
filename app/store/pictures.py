"""Pixels of a project's pictures as RGB arrays: images (EXIF orientation honoured, so
boxes line up with the sizes the store probed) and video frames.

One decode path for everything that reads pictures outside the display (prediction,
embedding, search queries). Video readers are expensive (a demuxed index, a decoder,
a frame cache), so ``PictureReader`` keeps only a few open, least recently used first
out, each with a small cache: memory stays bounded however many videos a job visits.
"""

from __future__ import annotations

import os
from collections import OrderedDict

import numpy as np

MAX_OPEN_VIDEOS = 2
VIDEO_CACHE_FRAMES = 4


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """An image file as an (H, W, 3) uint8 RGB array, as displayed."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        return np.array(ImageOps.exif_transpose(im).convert("RGB"))


class PictureReader:
    """RGB pixels of a project's image or video frame. Not thread-safe: one per thread."""

    def __init__(self, project, max_open: int = MAX_OPEN_VIDEOS,
                 cache_frames: int = VIDEO_CACHE_FRAMES):
        self.project = project
        self.max_open, self.cache_frames = max_open, cache_frames
        self._videos: OrderedDict[int, object] = OrderedDict()

    def read(self, media_id: int, frame: int = 0) -> np.ndarray:
        media = self.project.media.get(media_id)
        path = self.project.media.path(media)
        if media.kind != "video":
            return read_rgb(path)
        return np.ascontiguousarray(self.video(media_id, path).frame(frame)[..., ::-1])

    def video(self, media_id: int, path=None):
        """The open reader of a video (opened, and the oldest closed, as needed)."""
        reader = self._videos.get(media_id)
        if reader is None:
            from app.store.video import VideoReader

            if path is None:
                path = self.project.media.path(media_id)
            reader = VideoReader(path, cache_frames=self.cache_frames)
            self._videos[media_id] = reader
            while len(self._videos) > self.max_open:
                self._videos.popitem(last=False)[1].close()
        else:
            self._videos.move_to_end(media_id)
        return reader

    def close(self) -> None:
        for reader in self._videos.values():
            reader.close()
        self._videos.clear()

    def __enter__(self) -> "PictureReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
