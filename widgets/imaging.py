"""Images for display: files to ``QImage``.

``QImageReader`` with auto-transform applies the EXIF orientation, matching the
sizes the store probed, so box coordinates line up with what is shown.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader


class ImageLoadError(RuntimeError):
    pass


def load_image(path: str | os.PathLike, max_side: int | None = None) -> QImage:
    """The picture as shown; ``max_side`` decodes straight to a smaller image."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    if max_side:
        full = reader.size()
        if full.isValid() and full.width() > 0 and full.height() > 0:
            reader.setScaledSize(full.scaled(QSize(max_side, max_side), Qt.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise ImageLoadError(f"{path}: cannot show this image ({reader.errorString()})")
    return image


def to_qimage(frame) -> QImage:
    """A BGR (or grey) uint8 array as a QImage that owns a copy of the pixels."""
    import numpy as np

    frame = np.ascontiguousarray(frame)
    h, w = frame.shape[:2]
    fmt = QImage.Format.Format_Grayscale8 if frame.ndim == 2 else QImage.Format.Format_BGR888
    return QImage(frame.data, w, h, frame.strides[0], fmt).copy()
