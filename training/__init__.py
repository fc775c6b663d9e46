"""Kestrel's learning engine: Qt-free, usable headless (``python -m training``).

Importing this package must stay cheap: torch is imported only by the modules that
build, train or run models, so the app can read templates and events without it.
"""
