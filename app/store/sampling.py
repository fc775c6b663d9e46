"""Which frames of each video belong to the dataset (export and training).

A spec is a small JSON-able dict, stored per video (``Project.set_video_sampling``):

* ``{"mode": "boxes"}``: every frame with a manual or interpolated box (the default);
* ``{"mode": "every", "step": N, "start": 0}``: frames start, start+N, start+2N, …;
* ``{"mode": "range", "start": a, "end": b, "step": 1}``: a..b inclusive, every step-th;
* ``{"mode": "none"}``: the video is left out.
"""

from __future__ import annotations

from app.store.models import Media

MODES = ("boxes", "every", "range", "none")
DEFAULT_SPEC = {"mode": "boxes"}


def normalize(spec: dict | None) -> dict:
    """A validated copy of ``spec`` with defaults filled in; ValueError if it is wrong."""
    spec = dict(spec or DEFAULT_SPEC)
    mode = spec.get("mode")
    if mode not in MODES:
        raise ValueError(f"unknown sampling mode {mode!r} (choose from {', '.join(MODES)})")
    out: dict = {"mode": mode}
    if mode in ("every", "range"):
        out["step"] = _int(spec, "step", 1, minimum=1)
        out["start"] = _int(spec, "start", 0, minimum=0)
    if mode == "range":
        if "end" not in spec:
            raise ValueError("a range needs an end frame")
        out["end"] = _int(spec, "end", 0, minimum=0)
        if out["end"] < out["start"]:
            raise ValueError(f"range end {out['end']} is before its start {out['start']}")
    return out


def _int(spec: dict, key: str, default: int, minimum: int) -> int:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"sampling {key} must be an integer ≥ {minimum}, not {value!r}")
    return value


def describe(spec: dict | None) -> str:
    """One line for the user: "every 10th frame", "frames 30–90, every 2nd" …"""
    s = normalize(spec)
    if s["mode"] == "boxes":
        return "frames with boxes"
    if s["mode"] == "none":
        return "no frames"
    step = "every frame" if s["step"] == 1 else f"every {_ordinal(s['step'])} frame"
    if s["mode"] == "every":
        return step + (f" from {s['start']}" if s["start"] else "")
    return f"frames {s['start']}–{s['end']}" + ("" if s["step"] == 1 else f", {step}")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def sample_frames(project, media: Media | int, spec: dict | None = None) -> list[int]:
    """Sorted frame indices of ``media`` that ``spec`` (default: the stored one) selects."""
    m = project.media.get(media) if isinstance(media, int) else media
    if m.kind != "video":
        return []
    s = normalize(spec if spec is not None else project.frames.sampling(m.id))
    count = m.frame_count or 0
    if s["mode"] == "none":
        return []
    if s["mode"] == "boxes":
        return [f for f in project.frames.labelled(m.id) if 0 <= f < count]
    end = count - 1 if s["mode"] == "every" else min(s["end"], count - 1)
    return list(range(s["start"], end + 1, s["step"]))


def dataset_frames(project) -> dict[int, list[int]]:
    """media id → sampled frames, for every video of the project (what export writes)."""
    stored = project.frames.all_sampling()
    return {m.id: sample_frames(project, m, stored.get(m.id, DEFAULT_SPEC))
            for m in project.media.list("video")}
