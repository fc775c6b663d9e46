"""Which template a first click should train here, and what each would start from.

Torch-free: the Training panel and ``kestrel train`` ask before any run, and the
answer depends only on the files in the torch hub cache, the download policy and
whether the run goes to a GPU.

The preference lists rank (template, start) pairs for small datasets, best first: a
whole COCO detector beats an ImageNet backbone, and on a CPU only the MobileNet
detectors finish enough steps in minutes. ``fasterrcnn_mobilenet_v2`` from ImageNet
is the recipe measured on real data here (tests/benchmarks/bench_training_kangaroo.py);
the COCO starts rank above it because fine-tuning a whole pretrained detector is the
established better start, not because it was measured here (no COCO file is on
this machine).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from training.weights import Policy, cached_path, state
from training.weights_catalog import FALLBACK, START_LABELS, file_of, size_mb

# On a CPU the first run trains for a time, not a number of epochs (minutes).
CPU_TIME_BUDGET_MIN = 10

PREFERENCES: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("detector", "cpu"): [
        ("fasterrcnn_mobilenet_v3_large_fpn", "coco"),
        ("fasterrcnn_mobilenet_v3_large_320_fpn", "coco"),
        ("fasterrcnn_mobilenet_v2", "imagenet"),
        ("fasterrcnn_mobilenet_v3_large_fpn", "imagenet"),
        ("ssdlite320_mobilenet_v3_large", "coco"),
    ],
    ("detector", "gpu"): [
        ("fasterrcnn_resnet50_fpn_v2", "coco"),
        ("retinanet_resnet50_fpn_v2", "coco"),
        ("fcos_resnet50_fpn", "coco"),
        ("fasterrcnn_mobilenet_v3_large_fpn", "coco"),
        ("fasterrcnn_resnet50_fpn_v2", "imagenet"),
        ("fasterrcnn_mobilenet_v2", "imagenet"),
        ("fasterrcnn_mobilenet_v3_large_fpn", "imagenet"),
    ],
    ("embedder", "cpu"): [
        ("embed_mobilenet_v2", "imagenet"), ("embed_resnet18", "imagenet"),
        ("embed_efficientnet_b0", "imagenet"), ("embed_resnet50", "imagenet"),
    ],
    ("embedder", "gpu"): [
        ("embed_convnext_tiny", "imagenet"), ("embed_resnet50", "imagenet"),
        ("embed_efficientnet_b0", "imagenet"), ("embed_resnet18", "imagenet"),
        ("embed_mobilenet_v2", "imagenet"),
    ],
}

# With no pretrained file at all, the template that learns best from random weights.
# Measured on the generated shapes (64 px, 10 epochs): ResNet-18 reaches precision@1
# 1.0 after one or two epochs; MobileNetV2 and EfficientNet-B0 (depthwise convolutions)
# stay near chance for eight or more, whatever the loss or learning rate.
RANDOM_START: dict[str, str] = {"embedder": "embed_resnet18"}


@dataclass(frozen=True)
class StartInfo:
    """What a template would start from with ``pretrained=requested`` here."""

    requested: str
    start: str                    # coco / imagenet / none / file
    weights: str | None           # Enum.MEMBER of the file it loads
    state: str                    # present / downloadable / missing / none / file
    note: str                     # one line for people

    @property
    def random(self) -> bool:
        return self.start == "none" and self.requested != "none"


def start_info(spec: Any, requested: str | None = None, policy: Policy | None = None) -> StartInfo:
    """Where ``spec`` (a TemplateSpec) would start: the requested start if its file
    is present (or may be fetched), else the next one down, as the builders fall back."""
    policy = policy or Policy.from_env()
    starts = spec.start_weights
    requested = requested or default_pretrained(spec)
    if requested not in FALLBACK:
        return StartInfo(requested, "file", None, "file", f"starts from {requested}")
    if requested == "none":
        return StartInfo("none", "none", None, "none", "random start (pretrained=none)")
    for start in FALLBACK[FALLBACK.index(requested):]:
        if start == "none":
            break
        ref = starts.get(start)
        if ref is None:
            continue
        st = state(ref, policy)
        if st == "missing":
            continue
        how = ("present" if st == "present"
               else f"will be downloaded, {size_mb(ref):.0f} MB")
        instead = f"; the {requested} weights are missing" if start != requested else ""
        return StartInfo(requested, start, ref, st,
                         f"{START_LABELS[start]} weights ({how}){instead}")
    missing = [starts[s] for s in FALLBACK[FALLBACK.index(requested):] if s in starts]
    files = ", ".join(file_of(r) for r in missing) or "no file"
    return StartInfo(requested, "none", None, "missing",
                     f"would start from RANDOM weights: {files} not on this machine")


def default_pretrained(spec: Any) -> str:
    import dataclasses

    return next(f.default for f in dataclasses.fields(spec.hparams) if f.name == "pretrained")


@dataclass(frozen=True)
class Choice:
    """The template a first run should use, its suggested settings and why."""

    template: str
    overrides: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    start: StartInfo | None = None


def suggested_overrides(spec: Any, device_kind: str) -> dict[str, str]:
    """Settings that fit this device better than the template's defaults: on a CPU
    a time budget instead of a guess of epochs."""
    names = {f["name"] for f in spec.describe()["hparams"]}
    if device_kind == "cpu" and "time_budget" in names:
        return {"time_budget": str(CPU_TIME_BUDGET_MIN)}
    return {}


def choose(task: str, device_kind: str = "cpu", policy: Policy | None = None) -> Choice:
    """The best (template, start) of ``task`` for a CPU or a GPU whose weights are
    present or, downloads allowed, downloadable; the first choice (with a random
    start) when none is."""
    from training.templates import get_template, list_templates

    policy = policy or Policy.from_env()
    kind = "gpu" if device_kind != "cpu" else "cpu"
    ranked = PREFERENCES.get((task, kind)) or [
        (s.name, next(iter(s.start_weights), "none")) for s in list_templates(task)]
    if not ranked:
        raise KeyError(f"no templates for task {task!r}")
    for name, start in ranked:
        spec = get_template(name)
        info = start_info(spec, start, policy)
        if info.start == start:
            over = suggested_overrides(spec, kind)
            if start != default_pretrained(spec):
                over["pretrained"] = start
            return Choice(name, over, f"{name}: {info.note}, suits a {kind.upper()}", info)
    name, start = ranked[0]
    name = RANDOM_START.get(task, name)
    spec = get_template(name)
    info = start_info(spec, start, policy)
    return Choice(name, suggested_overrides(spec, kind),
                  f"{name}: no pretrained weights on this machine; {info.note}", info)


def weights_rows(policy: Policy | None = None) -> list[dict[str, Any]]:
    """Every pretrained file a template can start from: template, start, weights,
    file, state (present / downloadable / missing), size in MB and where it is (or
    would be) cached. One row per (template, start)."""
    from training.templates import list_templates

    policy = policy or Policy.from_env()
    rows = []
    for spec in list_templates():
        for start, ref in spec.start_weights.items():
            path = cached_path(ref)
            present = path.is_file()
            rows.append({"template": spec.name, "task": spec.task, "start": start,
                         "weights": ref, "file": file_of(ref), "state": state(ref, policy),
                         "size_mb": round(path.stat().st_size / 2**20, 1) if present
                         else size_mb(ref), "path": str(path), "url": policy.url(ref)})
    return rows
