"""A thread about to load a model imports torch and torchvision whole first.

The window's worker threads load models (live predictions, review, search, the
weights dialog), and the first to start imports torch. Python makes an
``import torchvision`` wait while another thread is still initialising torchvision,
but not an import of one of its submodules: a thread importing
``torchvision.models.detection`` then gets the half-made package, and both imports
fail ("cannot import name 'StochasticDepth' from partially initialized module
'torchvision.ops'"), leaving torchvision broken for the life of the process.
Importing the packages at their top first makes the second thread wait.
"""

from __future__ import annotations


def import_torch() -> None:
    """Import torch and torchvision completely (at once, when they are already)."""
    import torch  # noqa: F401
    import torchvision  # noqa: F401
