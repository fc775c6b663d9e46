"""Images for display: files to ``QImage``.

``QImageReader`` with auto-transform applies the EXIF orientation, matching the
sizes the store probed, so box coordinates line up with what is shown.
"""

from __future__ import annotations

import os

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
