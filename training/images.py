"""Reading image files the way the app shows them: Pillow, EXIF orientation applied,
RGB uint8 (torchvision.io's decoders are deprecated; Pillow is what the app uses)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps

# Photos cut short by a few bytes are common in real datasets; they still train
# (missing rows stay grey) instead of stopping a run after an hour.
ImageFile.LOAD_TRUNCATED_IMAGES = True


def read_rgb(path: str | Path) -> np.ndarray:
    """HxWx3 uint8 RGB of an image file, upright by its EXIF orientation.
    Raises OSError (PIL.UnidentifiedImageError is one) when it cannot be decoded."""
    with Image.open(path) as im:
        return np.array(ImageOps.exif_transpose(im).convert("RGB"))
