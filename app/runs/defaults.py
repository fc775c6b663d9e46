"""The first click's defaults, shared by the Training panel and ``kestrel train``: the
task the project's labels call for, the template that will really work on this
machine (training.choice) and, per template, what it would start from.

Torch-free: nothing here imports torch, so the window asks at start-up.
"""

from __future__ import annotations

from training.choice import Choice, choose, start_info, suggested_overrides
from training.templates import get_template, list_templates
from training.weights import Policy


def project_task(boxes: int, tags: dict[str, int]) -> str:
    """Boxes train a detector; a project of tagged images without boxes, an embedder."""
    return "embedder" if boxes == 0 and any(tags.values()) else "detector"


def device_kind(device: str | None) -> str:
    """"cpu" or "gpu" for a device name (cuda, cuda:1, mps count as a GPU); None means
    the best there is (nvidia-smi, or an Apple GPU)."""
    if device is None:
        from app.runs.devices import device_choices, list_gpus

        device = device_choices(list_gpus())[0]["device"]
    return "cpu" if device == "cpu" else "gpu"


def template_rows(kind: str, policy: Policy) -> list[dict]:
    """Every template's description for the panel, with where it would start
    (``start_note``, ``random_start``) and the settings that suit ``kind``
    (``suggested``)."""
    rows = []
    for spec in list_templates():
        row = spec.describe()
        row.update(template_marks(spec.name, policy))
        row["suggested"] = suggested_for(spec.name, kind, policy)
        rows.append(row)
    return rows


def template_marks(name: str, policy: Policy) -> dict:
    info = start_info(get_template(name), None, policy)
    return {"start_note": info.note, "random_start": info.random}


def suggested_for(name: str, kind: str, policy: Policy) -> dict[str, str]:
    """A template's suggested settings: the device's (a time budget on a CPU) and,
    when its default start is missing but a lower one is here, that start."""
    spec = get_template(name)
    over = suggested_overrides(spec, kind)
    info = start_info(spec, None, policy)
    if info.start not in (info.requested, "none", "file"):
        over["pretrained"] = info.start
    return over


def first_choice(boxes: int, tags: dict[str, int], kind: str, policy: Policy) -> Choice:
    return choose(project_task(boxes, tags), kind, policy)
