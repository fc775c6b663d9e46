"""Which pictures Label next considers, and which of them are labelled (Qt-free,
torch-free).

A picture is an image, or a frame of a video. Of a video, the frames its dataset
sampling names (every Nth, a range) are considered, else one frame a second (at most
``MAX_FRAMES`` spread over the clip): neighbouring frames look alike, so one a second
loses little. Labelled pictures (boxes, or "no objects") seed the diversity; pictures
not labelled yet are the candidates; ones needing review are neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.store import sampling

MAX_FRAMES = 300

Key = tuple[int, int]      # (media id, frame); frame 0 for images


@dataclass(frozen=True)
class Pictures:
    keys: list[Key]                      # every picture considered, in media order
    labelled: set[Key]                   # of them, the labelled ones
    candidates: list[Key]                # of them, the ones not labelled yet
    fps: dict[int, float]                # video media id → frames per second
    names: dict[int, str]                # media id → name

    @property
    def unlabelled(self) -> set[Key]:
        return set(self.candidates)


def video_frames(project, media, spec: dict | None = None) -> list[int]:
    """The frames of a video that Label next considers."""
    spec = sampling.normalize(spec if spec is not None else project.frames.sampling(media.id))
    count = media.frame_count or 0
    if count <= 0 or spec["mode"] == "none":
        return []
    if spec["mode"] in ("every", "range"):
        frames = sampling.sample_frames(project, media, spec)
    else:
        step = max(1, int(round(media.fps or 25.0)))
        frames = list(range(0, count, step))
    if len(frames) > MAX_FRAMES:           # spread evenly over the clip
        pick = [frames[round(i * (len(frames) - 1) / (MAX_FRAMES - 1))] for i in range(MAX_FRAMES)]
        frames = sorted(set(pick))
    return frames


def pictures(project) -> Pictures:
    labelled_all = project.status.labelled_pictures()
    review = project.status.marked("review")
    stored = project.frames.all_sampling()
    keys: list[Key] = []
    fps: dict[int, float] = {}
    names: dict[int, str] = {}
    for media in project.media.list():
        names[media.id] = media.name
        if media.kind == "image":
            keys.append((media.id, 0))
        else:
            fps[media.id] = float(media.fps or 25.0)
            keys += [(media.id, f) for f in video_frames(project, media, stored.get(media.id))]
    labelled = {k for k in keys if k in labelled_all}
    candidates = [k for k in keys if k not in labelled_all and k not in review]
    return Pictures(keys, labelled, candidates, fps, names)


def describe(pics: Pictures, key: Key) -> str:
    """"photo.jpg" or "clip.mp4 frame 120"."""
    media_id, frame = key
    name = pics.names.get(media_id, f"#{media_id}")
    return f"{name} frame {frame}" if media_id in pics.fps else name
