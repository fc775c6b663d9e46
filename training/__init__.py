"""Kestrel's learning engine: Qt-free, usable headless (``python -m training``).

Importing this package must stay cheap: torch is imported only by the modules that
build, train or run models, so the app can read templates and events without it.

Torch-free (the app imports these):
    templates   registry: register_template, get_template, list_templates, TemplateSpec
    hparams     DetectorHParams, parse_overrides, describe, from_dict, to_dict, HParamError
    events      event schema (version 1), parse_event, Emitter, is_terminal
    detection/models  detector templates (builders import torch lazily)
With torch:
    data        COCO -> tv_tensors dataset, split, grouped/distributed batches
    engine      train_one_epoch, evaluate, coco_metrics (pycocotools COCOeval)
    trainer     Trainer loop + Hook base; hooks: reporter, eval, checkpoint, early stop
    run         run_train(TrainConfig): the one run skeleton (devices, DDP, signals, resume)
    recipe      TaskRecipe: what a task builds for it (detection/recipe.py, embedding/recipe.py)
    images      read_rgb: image files as the app shows them (EXIF orientation)
    checkpoint  weights_only checkpoints; predictor: Predictor; export: TorchScript/ONNX
    weights     offline pretrained weights (hub cache import, sha256 check)
    cli         python -m training train|eval|predict|export|templates|weights import
"""
