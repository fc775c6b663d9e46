"""The size a detector looks at an image, so that images are decoded, cached and fed
at that size instead of at the camera's (torch-free: the app sizes its image cache
with it).

torchvision's detectors resize every image inside the model: Faster R-CNN, RetinaNet
and FCOS scale the shorter side to ``min_size`` unless the longer side would pass
``max_size``; SSDlite squeezes it to ``min_size`` x ``min_size``. Pixels beyond that
are decoded, augmented and moved only to be thrown away. Scale-jitter zooms in by up
to ``1 + scale_jitter``, so that much more resolution is kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Smaller reductions are not worth a resize or a cached copy.
SHRINK_BELOW = 0.9


@dataclass(frozen=True)
class InputFit:
    min_size: int
    max_size: int
    square: bool = False     # SSD-style fixed square input
    margin: float = 1.0      # resolution kept above the model's input (zoom-in jitter)

    def scale(self, width: float, height: float) -> float:
        """The factor the model's own resize applies to an image of this size, times
        the margin."""
        short, long = min(width, height), max(width, height)
        s = self.min_size / short if self.square else min(self.min_size / short,
                                                           self.max_size / long)
        return s * self.margin

    def size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) worth decoding or storing: the image's own size unless the
        model would shrink it (by more than ``SHRINK_BELOW``)."""
        s = self.scale(width, height)
        if s >= SHRINK_BELOW:
            return int(width), int(height)
        return max(1, round(width * s)), max(1, round(height * s))


def input_fit(template: str, hparams: Any) -> InputFit | None:
    """The fit of a detector template with these hyperparameters; None for other tasks
    (an embedder crops boxes out of the full image, so it keeps every pixel)."""
    from training.templates import get_template

    spec = get_template(template)
    if spec.task != "detector" or not hasattr(hparams, "min_size"):
        return None
    return InputFit(int(hparams.min_size), int(hparams.max_size),
                    spec.input_shape == "square", 1.0 + float(hparams.scale_jitter))


def run_input_fit(template: str, overrides: dict[str, Any] | None = None) -> InputFit | None:
    """``input_fit`` for a run about to start: template defaults plus ``overrides``
    (values as the command line takes them)."""
    from training.hparams import parse_overrides
    from training.templates import get_template

    spec = get_template(template)
    items = [f"{k}={','.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
             for k, v in (overrides or {}).items()]
    return input_fit(template, parse_overrides(spec.hparams(), items))
