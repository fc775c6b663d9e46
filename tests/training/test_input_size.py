"""Decoding at the model's input size: the fit, draft-mode reading, reduced copies
in a dataset (boxes scaled, predictions mapped back), and the loader's worker count."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from training.data import DatasetError, DetectionDataset, load_coco, make_transforms
from training.hparams import DetectorHParams
from training.images import read_fitted
from training.sizing import InputFit, input_fit, run_input_fit


def test_fit_follows_the_models_own_resize():
    rcnn = InputFit(512, 853)
    assert rcnn.size(4000, 3000) == (683, 512)          # shorter side to min_size
    assert rcnn.size(4000, 1000) == (853, 213)          # unless the longer passes max_size
    assert rcnn.size(3000, 4000) == (512, 683)
    assert rcnn.size(640, 480) == (640, 480)            # never enlarged
    assert rcnn.size(540, 540) == (540, 540)            # 0.95: not worth a resize
    ssd = InputFit(320, 320, square=True)
    assert ssd.size(4000, 1000) == (1280, 320)          # both sides keep >= 320 for the square
    assert InputFit(320, 320, square=True, margin=1.3).size(4000, 3000) == (555, 416)


def test_fit_of_a_template_with_overrides():
    fit = run_input_fit("fasterrcnn_mobilenet_v2", {"min_size": 288, "scale_jitter": "0.25"})
    assert (fit.min_size, fit.max_size, fit.square, fit.margin) == (288, 512, False, 1.25)
    ssd = run_input_fit("ssdlite320_mobilenet_v3_large")
    assert ssd.square and ssd.min_size == 320 and ssd.margin == pytest.approx(1.3)
    assert run_input_fit("embed_resnet18") is None       # embedders crop: every pixel kept
    assert input_fit("fasterrcnn_mobilenet_v2", DetectorHParams(min_size=100)).min_size == 100


def _photo(path, w, h, exif_orientation=None):
    pixels = np.zeros((h, w, 3), np.uint8)
    pixels[:, : w // 4] = (255, 0, 0)                   # red on the left quarter
    exif = Image.Exif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    Image.fromarray(pixels).save(path, quality=95, exif=exif)


def test_read_fitted_decodes_reduced_and_upright(tmp_path):
    _photo(tmp_path / "p.jpg", 1600, 1200, exif_orientation=6)   # shown as 1200 x 1600
    pixels, full = read_fitted(tmp_path / "p.jpg", InputFit(300, 500))
    assert full == (1200, 1600) and pixels.shape == (400, 300, 3)
    assert pixels[:90, :, 0].mean() > 200 and pixels[-90:, :, 0].mean() < 40  # red on top
    whole, full = read_fitted(tmp_path / "p.jpg")
    assert whole.shape == (1600, 1200, 3) and full == (1200, 1600)


def _dataset(tmp_path, stored=None, size=(800, 600)):
    (tmp_path / "img").mkdir(exist_ok=True)
    _photo(tmp_path / "img" / "a.jpg", *(stored or size))
    image = {"id": 1, "file_name": "img/a.jpg", "width": size[0], "height": size[1]}
    if stored:
        image["kestrel_stored_size"] = list(stored)
    doc = {"images": [image], "categories": [{"id": 1, "name": "red"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                            "bbox": [0, 0, size[0] / 4, size[1]], "area": 1}]}
    (tmp_path / "c.json").write_text(json.dumps(doc))
    return load_coco(tmp_path / "c.json", tmp_path)


@pytest.mark.parametrize("stored, fit", [((200, 150), None), (None, InputFit(150, 400))])
def test_reduced_samples_scale_boxes_and_predictions_map_back(tmp_path, stored, fit):
    """A stored copy (the app's cache) or a fitted decode: boxes follow the pixels,
    and evaluation maps predictions back to the original's pixels."""
    from training.data import collate
    from training.engine import predict_batches

    coco = _dataset(tmp_path, stored)
    ds = DetectionDataset(coco, tmp_path, None, make_transforms(DetectorHParams(), False), fit)
    image, target = ds[0]
    assert image.shape == (3, 150, 200) and target["scale"] == (0.25, 0.25)
    assert target["boxes"].tolist() == [[0.0, 0.0, 50.0, 150.0]]

    class Echo(torch.nn.Module):  # "detects" exactly the sample's box
        def forward(self, images):
            return [{"boxes": target["boxes"].as_subclass(torch.Tensor).clone(),
                     "labels": torch.tensor([1]), "scores": torch.tensor([0.9])}]

    loader = torch.utils.data.DataLoader(ds, batch_size=1, collate_fn=collate)
    (det,) = predict_batches(Echo(), loader, torch.device("cpu"))
    assert det["bbox"] == pytest.approx([0, 0, 200, 600])       # original pixels


def test_a_stored_copy_of_the_wrong_size_is_named(tmp_path):
    coco = _dataset(tmp_path, stored=(200, 150))
    coco.images[0]["stored_size"] = (210, 150)
    with pytest.raises(DatasetError, match=r"img/a.jpg is 200x150.*210x150"):
        DetectionDataset(coco, tmp_path)[0]


def test_uint8_samples_become_float_on_the_device(tmp_path):
    from training.engine import to_device

    coco = _dataset(tmp_path, stored=(200, 150))
    ds = DetectionDataset(coco, tmp_path, None, make_transforms(DetectorHParams(), False, False))
    image, target = ds[0]
    assert image.dtype == torch.uint8
    (moved,), _ = to_device([image], [target], torch.device("cpu"))
    assert moved.dtype == torch.float32 and moved.max() <= 1.0
    torch.testing.assert_close(moved, image.float() / 255)


def test_auto_workers_follow_the_allowed_cores(monkeypatch):
    import os

    from training import loading

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    assert loading.available_cores() == 4
    assert loading.resolve_workers(-1) == 3 and loading.resolve_workers(5) == 5
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")             # two ranks share the 4 cores
    assert loading.resolve_workers(-1) == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0}, raising=False)
    assert loading.resolve_workers(-1) == 0


@pytest.mark.parametrize("template, start", [("ssdlite320_mobilenet_v3_large", "none"),
                                             ("fasterrcnn_mobilenet_v2", "none")])
def test_folding_batch_norm_keeps_the_models_answers(template, start):
    from training.fuse import fuse_conv_bn, fused_copy
    from training.hparams import parse_overrides
    from training.templates import get_template

    spec = get_template(template)
    torch.manual_seed(0)
    model = spec.build(num_classes=3, hparams=parse_overrides(
        spec.hparams(), [f"pretrained={start}", "min_size=96", "max_size=128"]))
    with torch.no_grad():                       # statistics a training would have left
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    with pytest.raises(ValueError, match="eval mode"):
        fuse_conv_bn(model)
    model.eval()
    folded = fused_copy(model)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules()) == 0
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) > 20  # untouched
    x = torch.rand(2, 3, 96, 128)
    with torch.inference_mode():
        a, b = model.backbone(x), folded.backbone(x)
        pa, pb = model(list(x)), folded(list(x))
    a, b = (a, b) if isinstance(a, dict) else ({"0": a}, {"0": b})
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-4)
    for p, q in zip(pa, pb):
        torch.testing.assert_close(q["scores"].sort().values, p["scores"].sort().values,
                                   rtol=1e-3, atol=1e-4)
