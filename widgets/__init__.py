"""Qt views. They show plain data and emit intents; no torch, no sqlite, no store."""
from widgets._pyside_fix import ensure_none_survives as _ensure_none_survives

_ensure_none_survives()  # PySide6 6.12.0 on Python 3.11 leaks references to None
