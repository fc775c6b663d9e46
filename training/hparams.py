"""Typed hyperparameters: frozen dataclasses whose fields carry their own help text
and limits, so the app can build a form from them and the CLI can parse ``key=value``.

Torch-free on purpose: the app imports this at start-up.

Each field's ``metadata`` holds ``help`` and either ``range`` (lo, hi), inclusive,
or ``choices``; ``or_file`` marks a choice field that also accepts a file path.
"""
from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any, Iterable


class HParamError(ValueError):
    """A hyperparameter value is unknown, of the wrong type or out of range."""


def hp(default: Any, help: str, *, range: tuple | None = None,
       choices: Iterable | None = None, or_file: bool = False):
    """A dataclass field with the metadata the form and the parser read."""
    meta: dict[str, Any] = {"help": help}
    if range is not None:
        meta["range"] = tuple(range)
    if choices is not None:
        meta["choices"] = tuple(choices)
    if or_file:
        meta["or_file"] = True
    return field(default=default, metadata=meta)


def _field_type(cls: type, f: dataclasses.Field) -> Any:
    # ``from __future__ import annotations`` leaves strings; resolve them once.
    return typing.get_type_hints(cls)[f.name]


def describe(cls_or_obj: Any) -> list[dict[str, Any]]:
    """Every field as plain data: name, type, default, help, range/choices."""
    cls = cls_or_obj if isinstance(cls_or_obj, type) else type(cls_or_obj)
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        t = hints[f.name]
        default = getattr(cls_or_obj, f.name) if not isinstance(cls_or_obj, type) else f.default
        item = {"name": f.name, "type": _type_name(t),
                "default": list(default) if isinstance(default, tuple) else default,
                "help": f.metadata.get("help", "")}
        for key in ("range", "choices"):
            if key in f.metadata:
                item[key] = list(f.metadata[key])
        if f.metadata.get("or_file"):
            item["or_file"] = True
        out.append(item)
    return out


def _type_name(t: Any) -> str:
    if typing.get_origin(t) is tuple:
        return "floats"
    return getattr(t, "__name__", str(t))


def convert(cls: type, name: str, value: Any) -> Any:
    """Convert ``value`` (a string from the command line, or already typed) for
    field ``name`` of ``cls`` and check its range/choices; raise HParamError."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if name not in fields:
        raise HParamError(f"unknown hyperparameter {name!r}; known: {', '.join(sorted(fields))}")
    f = fields[name]
    t = _field_type(cls, f)
    try:
        v = _coerce(t, value)
    except (TypeError, ValueError) as exc:
        raise HParamError(f"{name}: cannot read {value!r} as {_type_name(t)} ({exc})") from None
    meta = f.metadata
    if "range" in meta:
        lo, hi = meta["range"]
        items = v if isinstance(v, tuple) else (v,)
        for x in items:
            if not (lo <= x <= hi) or (isinstance(x, float) and not math.isfinite(x)):
                raise HParamError(f"{name}: {x!r} is outside the range [{lo}, {hi}]")
    if "choices" in meta and v not in meta["choices"]:
        if not meta.get("or_file"):
            raise HParamError(f"{name}: {v!r} is not one of {list(meta['choices'])}")
        if not str(v).endswith((".pt", ".pth")):
            raise HParamError(f"{name}: {v!r} is neither one of {list(meta['choices'])} "
                              "nor a .pt/.pth file")
    return v


def _coerce(t: Any, value: Any) -> Any:
    if typing.get_origin(t) is tuple:
        if isinstance(value, str):
            parts = [p for p in value.replace(" ", "").split(",") if p]
        else:
            parts = list(value)
        return tuple(float(p) for p in parts)
    if t is bool:
        if isinstance(value, bool):
            return value
        s = str(value).strip().lower()
        if s in ("1", "true", "yes", "on"):
            return True
        if s in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected true/false")
    if t is int:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("expected an integer")
        if isinstance(value, str):
            f = float(value)
            if not f.is_integer():
                raise ValueError("expected an integer")
            return int(f)
        return int(value)
    if t is float:
        return float(value)
    return str(value)


def parse_overrides(hparams: Any, items: Iterable[str]) -> Any:
    """Apply ``key=value`` strings to a frozen hyperparameter object with
    ``dataclasses.replace``; every value is converted and checked."""
    changes: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise HParamError(f"expected key=value, got {item!r}")
        key, value = item.split("=", 1)
        key = key.strip().replace("-", "_")
        changes[key] = convert(type(hparams), key, value.strip())
    return dataclasses.replace(hparams, **changes)


def from_dict(cls: type, values: dict[str, Any]) -> Any:
    """Rebuild a hyperparameter object (e.g. from a checkpoint), checking every value.
    Keys the class no longer knows are dropped, so old checkpoints still load."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: convert(cls, k, v) for k, v in values.items() if k in names})


def to_dict(hparams: Any) -> dict[str, Any]:
    """Plain JSON/checkpoint-safe dict (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(hparams).items()}


def derive(base: type, name: str, overrides: dict[str, Any] | None = None,
           **defaults: Any) -> type:
    """A frozen subclass of ``base`` with other defaults (``defaults``) and other
    metadata for some fields (``overrides``: field -> dict merged into metadata)."""
    overrides = overrides or {}
    hints = typing.get_type_hints(base)
    new_fields = []
    for f in dataclasses.fields(base):
        if f.name not in defaults and f.name not in overrides:
            continue
        meta = {**f.metadata, **overrides.get(f.name, {})}
        default = defaults.get(f.name, f.default)
        new_fields.append((f.name, hints[f.name], field(default=default, metadata=meta)))
    cls = dataclasses.make_dataclass(name, new_fields, bases=(base,), frozen=True)
    cls.__module__ = base.__module__
    for f in dataclasses.fields(cls):  # a bad default fails at definition, not in a run
        if f.name in defaults or f.name in overrides:
            convert(cls, f.name, f.default)
    return cls


TIME_BUDGET_HELP = ("Train for this many minutes, evaluation included, instead of for "
                    "'epochs' (0: for 'epochs'). The steps that fit are measured as the "
                    "run goes; the learning rate's cosine ends at the deadline.")


@dataclass(frozen=True)
class DetectorHParams:
    """Hyperparameters shared by every detector template."""

    epochs: int = hp(12, "Passes over the training images.", range=(1, 1000))
    time_budget: float = hp(0.0, TIME_BUDGET_HELP, range=(0.0, 10080.0))
    batch_size: int = hp(4, "Images per step on each device.", range=(1, 256))
    optimizer: str = hp("sgd", "Optimizer (SGD with momentum 0.9, or AdamW).",
                        choices=("sgd", "adamw"))
    lr: float = hp(0.01, "Learning rate: used as is ('base') or multiplied by the "
                   "global batch size ('per_image').", range=(1e-7, 10.0))
    lr_mode: str = hp("base", "How 'lr' is read.", choices=("base", "per_image"))
    weight_decay: float = hp(1e-4, "L2 weight decay.", range=(0.0, 1.0))
    warmup_iters: int = hp(100, "Steps of linear learning-rate warm-up.", range=(0, 100000))
    warmup_factor: float = hp(0.001, "Learning-rate factor at the first warm-up step.",
                              range=(0.0, 1.0))
    schedule: str = hp("cosine", "Learning-rate schedule after warm-up.",
                       choices=("cosine", "multistep", "constant"))
    milestones: tuple[float, ...] = hp((0.67, 0.89), "Multistep: fractions of the run "
                                       "where the rate is multiplied by gamma.", range=(0.0, 1.0))
    gamma: float = hp(0.1, "Multistep: factor at each milestone.", range=(0.0, 1.0))
    min_size: int = hp(512, "Shorter image side fed to the model (pixels).", range=(32, 2048))
    max_size: int = hp(853, "Longest image side fed to the model (pixels).", range=(32, 4096))
    trainable_backbone_layers: int = hp(3, "Backbone stages that learn (0 = frozen "
                                        "backbone; only used with pretrained weights).",
                                        range=(0, 5))
    hflip: float = hp(0.5, "Probability of a horizontal flip.", range=(0.0, 1.0))
    scale_jitter: float = hp(0.0, "Random zoom in/out by up to this fraction.",
                             range=(0.0, 0.9))
    photometric: bool = hp(False, "Random brightness/contrast/saturation/hue changes.")
    amp: bool = hp(True, "Mixed precision (CUDA only; ignored elsewhere).")
    grad_clip: float = hp(10.0, "Clip the gradient norm to this (0 = off).",
                          range=(0.0, 1e6))
    patience: int = hp(0, "Stop after this many evaluations without a better mAP "
                       "(0 = never).", range=(0, 1000))
    seed: int = hp(0, "Seed for the split, shuffling, augmentation and init.",
                   range=(0, 2**31 - 1))
    pretrained: str = hp("coco", "Starting weights: none (random), imagenet (backbone), "
                         "coco (whole detector) or a .pt/.pth file.",
                         choices=("none", "imagenet", "coco"), or_file=True)
    val_fraction: float = hp(0.2, "Share of images held out for validation.",
                             range=(0.0, 0.9))
    workers: int = hp(-1, "Data-loading worker processes (-1: from the CPU cores this "
                      "process may use; 0: load in the training process).", range=(-1, 64))
    aspect_grouping: bool = hp(True, "Batch images of similar aspect ratio together.")
