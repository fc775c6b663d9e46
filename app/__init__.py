"""Kestrel application: CLI, project store, document, services and the main window.

Only this package may import both the Qt side (``widgets``) and the learning side
(``training``); the store underneath (``app.store``) stays free of both.
"""
