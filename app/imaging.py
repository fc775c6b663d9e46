"""Images for display: files and decoded frames to ``QImage``.

``QImageReader`` with auto-transform applies the EXIF orientation, matching the
sizes the store probed, so box coordinates line up with what is shown.
"""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtGui import QImage, QImageReader


class ImageLoadError(RuntimeError):
    pass


def load_image(path: str | os.PathLike) -> QImage:
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    image = reader.read()
    if image.isNull():
        raise ImageLoadError(f"{path}: cannot show this image ({reader.errorString()})")
    return image


def bgr_to_qimage(frame: np.ndarray) -> QImage:
    """Convert an OpenCV BGR frame; the QImage owns a copy of the pixels."""
    if frame.ndim == 2:
        h, w = frame.shape
        return QImage(np.ascontiguousarray(frame).data, w, h, w, QImage.Format_Grayscale8).copy()
    h, w, _ = frame.shape
    rgb = np.ascontiguousarray(frame[..., ::-1])
    return QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()
