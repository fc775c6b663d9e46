"""What the Training panel shows about the data before a run: images and boxes per
class as the trainer will see them (images plus labelled video frames), the
train/validation split the trainer will make, and warnings worth reading first."""

from __future__ import annotations

MIN_BOXES_PER_CLASS = 5


def labelled_frames(project) -> dict[int, list[int]]:
    """Video frames that carry boxes (keyframes and stored interpolations): the
    frames a run exports as images."""
    out: dict[int, list[int]] = {}
    for media_id, frame in project.conn.execute(
        "SELECT DISTINCT boxes.media_id, boxes.frame FROM boxes JOIN media ON media.id = boxes.media_id "
        "WHERE media.kind = 'video' AND boxes.source != 'predicted' ORDER BY 1, 2"
    ):
        out.setdefault(media_id, []).append(frame)
    return out


def counts(project) -> dict:
    """Images (with labelled frames) and boxes per class in what a run exports."""
    c = project.conn
    images = c.execute("SELECT COUNT(*) FROM media WHERE kind = 'image'").fetchone()[0]
    frames = c.execute(
        "SELECT COUNT(*) FROM (SELECT DISTINCT boxes.media_id, boxes.frame FROM boxes "
        "JOIN media ON media.id = boxes.media_id "
        "WHERE media.kind = 'video' AND boxes.source != 'predicted')").fetchone()[0]
    per_class = {name: n for name, n in c.execute(
        "SELECT classes.name, COUNT(boxes.id) FROM classes LEFT JOIN boxes "
        "ON boxes.class_id = classes.id AND boxes.source != 'predicted' "
        "GROUP BY classes.id ORDER BY classes.position")}
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
