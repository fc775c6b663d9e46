"""Embedder templates: a torchvision backbone + a projection head, trained with a
metric-learning loss (pytorch-metric-learning) on image tags or box crops.

Importing ``training.embedding.templates`` registers the templates (torch-free);
``recipe`` is the task's part of the shared run skeleton (training.run);
``inference.Embedder`` turns images into L2-normalised vectors.
"""
