"""Thumbnails for the media browser: images as the browser decodes them, videos as a
real frame (a third of the way in: the first frames are often black titles).

Called on the browser's thread pool, never on the GUI thread; every call opens its
own reader (readers are not shared between threads). A video that cannot be decoded
raises, and the browser shows its "cannot read" picture.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from widgets.media_model import THUMB, MediaRow, default_thumbnail


def thumbnail(row: MediaRow) -> QImage:
    if row.kind != "video":
        return default_thumbnail(row)
    from app.store.video import VideoReader
    from app.video.player import to_qimage

    with VideoReader(row.path, cache_frames=1) as reader:
        frame = reader.frame(max(0, reader.frame_count // 3))
    return to_qimage(frame).scaled(THUMB, THUMB * 3 // 4, Qt.KeepAspectRatio,
                                   Qt.SmoothTransformation)
