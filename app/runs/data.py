"""What the Training panel shows about the data before a run: images and boxes per
class as the trainer will see them (labelled images plus labelled video frames), how
many pictures are left out as not labelled yet or needing review, the
train/validation split the trainer will make (the dataset's own when it has
validation images), and warnings worth reading first."""

from __future__ import annotations

MIN_BOXES_PER_CLASS = 5


def labelled_frames(project) -> dict[int, list[int]]:
    """Labelled video frames (boxes, keyframes or stored interpolations, or marked "no
    objects"; none needing review): the frames a run exports as images."""
    videos = set(project.media.ids_of_kind("video"))
    out: dict[int, list[int]] = {}
    for media_id, frame in sorted(project.status.labelled_pictures()):
        if media_id in videos:
            out.setdefault(media_id, []).append(frame)
    return out


def counts(project) -> dict:
    """Images (with labelled frames) and boxes per class in what a run exports, how
    many images it leaves out, and each exported image's split marks, as the trainer
    will read them."""
    by_video = labelled_frames(project)
    splits = project.media.splits()
    items = [{"kestrel_split": splits.get(m)} for m in project.status.labelled_images()]
    items += [{"kestrel_split": splits.get(v), "kestrel_group": v}
              for v, frames in by_video.items() for _ in frames]
    frames = sum(len(f) for f in by_video.values())
    per_class = project.status.box_counts_by_name()
    status = project.status.image_counts()
    return {"images": len(items), "frames": frames, "boxes": sum(per_class.values()),
            "boxes_per_class": per_class, "negatives": status["empty"],
            "left_out": {"unlabelled": status["unlabelled"], "review": status["review"]},
            "split_items": items}


def split_sizes(items: list[dict], val_fraction: float, seed: int = 0) -> tuple[int, int]:
    """(train, val) image counts, as the trainer's split makes them."""
    from training.split import dataset_split  # torch-free

    train, val = dataset_split(items, val_fraction, seed)
    return len(train), len(val)


def split_text(items: list[dict], train: int, val: int) -> str:
    """One line on where the validation images come from."""
    own = [it.get("kestrel_split") for it in items]
    test = own.count("test")
    held = f"; test: {test} images held out" if test else ""
    if "val" in own:
        return f"validation: the dataset's own split, {val} images (train {train}){held}"
    return f"split ≈ {train} train / {val} validation (seeded random){held}"


def summary(base: dict, values: dict[str, str]) -> dict:
    """``base`` from counts(); ``values`` the form's hyperparameters as text."""
    def number(key, default, kind=float):
        try:
            return kind(float(values.get(key, default)))
        except (TypeError, ValueError):
            return default

    items = base.get("split_items") or [{} for _ in range(base["images"])]
    train, val = split_sizes(items, number("val_fraction", 0.2), number("seed", 0, int))
    warnings = []
    left = base.get("left_out") or {}
    if base["images"] == 0 and left.get("unlabelled"):
        warnings.append("no labelled images yet: draw boxes, or mark an image that shows "
                        "no objects with E")
    elif base["images"] == 0:
        warnings.append("no images in the project")
    elif base["boxes"] == 0:
        warnings.append("no boxes: label some objects first")
    for name, n in base["boxes_per_class"].items():
        if n < MIN_BOXES_PER_CLASS:
            warnings.append(f"class “{name}” has {n} box{'es' if n != 1 else ''} "
                            f"(fewer than {MIN_BOXES_PER_CLASS})")
    if base["images"] and val == 0:
        warnings.append("no validation images: mAP will not be measured (raise val_fraction)")
    batch = number("batch_size", 1, int)
    if base["images"] and train < batch:
        warnings.append(f"fewer training images ({train}) than the batch size ({batch})")
    out = {**base, "train": train, "val": val, "warnings": warnings,
           "split_text": split_text(items, train, val)}
    out.pop("split_items", None)
    return out
