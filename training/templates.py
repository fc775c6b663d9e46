"""The template registry: named, task-tagged model builders with typed hyperparameters.

Torch-free: registering and listing templates imports no torch; each builder
imports torch/torchvision inside its body. Modified from torchvision's
``models/_api.py`` habit (builders register by name, one keyword-only signature).

    from training.templates import list_templates, get_template
    spec = get_template("fasterrcnn_mobilenet_v3_large_fpn")
    spec.hparams()            # frozen dataclass of defaults
    spec.build(num_classes=3, hparams=hp)   # a torch model (imports torch)
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from training import hparams as _hp

# Modules whose import registers the built-in templates. Another task (embedder)
# adds its module here.
BUILTIN_MODULES = ["training.detection.models", "training.embedding.templates"]

_REGISTRY: dict[str, "TemplateSpec"] = {}
_loaded = False


@dataclass(frozen=True)
class TemplateSpec:
    """What the app shows for a template and how the engine builds it."""

    name: str
    task: str                    # "detector", "embedder", ...
    description: str             # one line
    hint: str                    # speed/accuracy hint, e.g. "fast, CPU-friendly"
    hparams: type                # frozen dataclass of hyperparameters
    builder: Callable[..., Any]  # builder(*, num_classes, hparams) -> torch model
    # How a detector resizes its input (training.sizing): "resize" (shorter side to
    # min_size, longer side at most max_size) or "square" (min_size x min_size)
    input_shape: str = "resize"
    # Pretrained starts: ``pretrained`` value -> torchvision weights "Enum.MEMBER"
    # (training.weights_catalog); a missing one falls back coco -> imagenet -> none.
    starts: tuple[tuple[str, str], ...] = ()

    @property
    def start_weights(self) -> dict[str, str]:
        return dict(self.starts)

    def build(self, *, num_classes: int, hparams: Any = None) -> Any:
        return self.builder(num_classes=num_classes,
                            hparams=hparams if hparams is not None else self.hparams())

    def describe(self) -> dict[str, Any]:
        """Plain data for ``templates --json`` and the app's form."""
        return {"name": self.name, "task": self.task, "description": self.description,
                "hint": self.hint, "hparams": _hp.describe(self.hparams),
                "starts": self.start_weights}


def register_template(name: str, *, task: str, description: str, hint: str,
                      hparams: type, input_shape: str = "resize",
                      starts: dict[str, str] | None = None) -> Callable[[Callable], Callable]:
    """Decorator: register ``builder(*, num_classes, hparams)`` under ``name``."""
    def wrap(builder: Callable) -> Callable:
        if name in _REGISTRY and _REGISTRY[name].builder is not builder:
            raise ValueError(f"template {name!r} is already registered")
        _REGISTRY[name] = TemplateSpec(name, task, description, hint, hparams, builder,
                                       input_shape, tuple((starts or {}).items()))
        return builder
    return wrap


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN_MODULES:
            importlib.import_module(module)


def list_templates(task: str | None = None) -> list[TemplateSpec]:
    """Registered templates (of one ``task`` if given), in registration order."""
    _load_builtin()
    return [s for s in _REGISTRY.values() if task is None or s.task == task]


def get_template(name: str) -> TemplateSpec:
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown template {name!r}; known: "
                       f"{', '.join(sorted(_REGISTRY))}") from None
