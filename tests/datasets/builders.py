"""Small generated datasets in the layouts real tools write (no downloaded data)."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from app.shell.cli import main


def img(path: Path, size=(64, 48), color="gray", fmt=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, format=fmt)
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def coco(path: Path, files: list[str], boxes_per_image: int = 1, cats=("cat", "dog"),
         cat_start: int = 1, extra_cats=(), size=(64, 48), **over) -> Path:
    cat_list = [{"id": i, "name": c, "supercategory": "none"} for i, c in enumerate(cats, cat_start)]
    cat_list += list(extra_cats)
    images = [{"id": i, "file_name": f, "width": size[0], "height": size[1]}
              for i, f in enumerate(files, 1)]
    anns = [{"id": len(images) * 100 + i * 10 + k, "image_id": i,
             "category_id": cat_start + (k % len(cats)),
             "bbox": [2 + k, 3, 10, 12], "area": 120, "iscrowd": 0, "segmentation": []}
            for i in range(1, len(files) + 1) for k in range(boxes_per_image)]
    data = {"info": {}, "images": images, "annotations": anns, "categories": cat_list, **over}
    return write(path, json.dumps(data))


def voc(path: Path, filename: str, boxes=(("cat", 2, 3, 20, 30),), folder=None, img_path=None,
        size=(64, 48)) -> Path:
    objs = "".join(f"<object><name>{n}</name><pose>Unspecified</pose><difficult>0</difficult>"
                   f"<bndbox><xmin>{a}</xmin><ymin>{b}</ymin><xmax>{c}</xmax><ymax>{d}</ymax>"
                   "</bndbox></object>" for n, a, b, c, d in boxes)
    sz = f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>" if size else ""
    return write(path, "<annotation>"
                 + (f"<folder>{folder}</folder>" if folder is not None else "")
                 + f"<filename>{filename}</filename>"
                 + (f"<path>{img_path}</path>" if img_path else "")
                 + f"<source><database>Unknown</database></source>{sz}<segmented>0</segmented>"
                 + objs + "</annotation>")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def new_project(capsys, tmp_path: Path) -> Path:
    p = tmp_path / "proj"
    assert run(capsys, "new", p)[0] == 0
    return p


def info(project: Path) -> dict:
    from app.store.project import Project

    with Project.open(project) as p:
        out = p.info()
        out["splits"] = {}
        for s in p.media.splits().values():
            out["splits"][s] = out["splits"].get(s, 0) + 1
        out["names"] = sorted(m.name for m in p.media.list())
        out["classes"] = [c.name for c in p.classes.all()]
    return out
