"""Reading image files the way the app shows them: Pillow, EXIF orientation applied,
RGB uint8 (torchvision.io's decoders are deprecated; Pillow is what the app uses).

``read_fitted`` decodes no more pixels than a model will look at: a JPEG is decoded
in draft mode (its DCT scaled by 1/2, 1/4 or 1/8: a 12-megapixel photo in ~30 ms
instead of ~150 ms here) and then resized, antialiased, to the fit's size.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFile, ImageOps

# Photos cut short by a few bytes are common in real datasets; they still train
# (missing rows stay grey) instead of stopping a run after an hour.
ImageFile.LOAD_TRUNCATED_IMAGES = True

_EXIF_ORIENTATION = 0x0112
_SWAPS_SIDES = (5, 6, 7, 8)   # orientations that rotate by 90 degrees


def read_rgb(path: str | Path) -> np.ndarray:
    """HxWx3 uint8 RGB of an image file, upright by its EXIF orientation.
    Raises OSError (PIL.UnidentifiedImageError is one) when it cannot be decoded."""
    with Image.open(path) as im:
        return np.array(ImageOps.exif_transpose(im).convert("RGB"))


def read_fitted(path: Any, fit: Any = None) -> tuple[np.ndarray, tuple[int, int]]:
    """(pixels, (width, height) of the whole upright image). ``pixels`` are at
    ``fit.size(width, height)`` (a training.sizing.InputFit), or whole without a fit.
    ``path`` may also be a binary file object. Raises OSError like ``read_rgb``."""
    with Image.open(path) as im:
        swapped = im.getexif().get(_EXIF_ORIENTATION, 1) in _SWAPS_SIDES
        full = (im.height, im.width) if swapped else (im.width, im.height)
        target = fit.size(*full) if fit is not None else full
        if target != full:
            im.draft("RGB", (target[1], target[0]) if swapped else target)
        out = ImageOps.exif_transpose(im).convert("RGB")
    if out.size != target:
        out = out.resize(target, Image.Resampling.BILINEAR)  # antialiased when reducing
    return np.array(out), full
