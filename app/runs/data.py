"""What the Training panel shows about the data before a run: images and boxes per
class as the trainer will see them (images plus labelled video frames), the
train/validation split the trainer will make, and warnings worth reading first."""

from __future__ import annotations

MIN_BOXES_PER_CLASS = 5


def labelled_frames(project) -> dict[int, list[int]]:
    """Video frames that carry boxes (keyframes and stored interpolations): the
    frames a run exports as images."""
    return project.frames.labelled_video_frames()


def counts(project) -> dict:
    """Images (with labelled frames) and boxes per class in what a run exports."""
    images = project.media.count("image")
    frames = sum(len(f) for f in project.frames.labelled_video_frames().values())
    per_class = project.classes.box_counts_by_name()
    return {"images": images + frames, "frames": frames, "boxes": sum(per_class.values()),
            "boxes_per_class": per_class}


def split_sizes(n: int, val_fraction: float) -> tuple[int, int]:
    """(train, val) image counts, as the trainer's split makes them."""
    from training.split import val_count  # torch-free

    n_val = val_count(n, val_fraction)
    return n - n_val, n_val


def summary(base: dict, values: dict[str, str]) -> dict:
    """``base`` from counts(); ``values`` the form's hyperparameters as text."""
    def number(key, default, kind=float):
        try:
            return kind(float(values.get(key, default)))
        except (TypeError, ValueError):
            return default

    train, val = split_sizes(base["images"], number("val_fraction", 0.2))
    warnings = []
    if base["images"] == 0:
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
    return {**base, "train": train, "val": val, "warnings": warnings}
