"""A simple dark-neutral theme: Fusion style, a dark palette and a few style-sheet touches."""
from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

COLORS = {
    "window": "#25272b", "base": "#1e1f22", "alt": "#2a2c31", "text": "#e6e7ea",
    "dim": "#8a8d93", "button": "#30333a", "highlight": "#3d7bd9", "link": "#6aa6ff",
}

def style_sheet() -> str:
    """The stylesheet shipped in the ``resources`` package (static, no code)."""
    return resources.files("resources").joinpath("theme.qss").read_text(encoding="utf-8")


def dark_palette() -> QPalette:
    c = {k: QColor(v) for k, v in COLORS.items()}
    p = QPalette()
    p.setColor(QPalette.Window, c["window"])
    p.setColor(QPalette.WindowText, c["text"])
    p.setColor(QPalette.Base, c["base"])
    p.setColor(QPalette.AlternateBase, c["alt"])
    p.setColor(QPalette.Text, c["text"])
    p.setColor(QPalette.Button, c["button"])
    p.setColor(QPalette.ButtonText, c["text"])
    p.setColor(QPalette.ToolTipBase, c["button"])
    p.setColor(QPalette.ToolTipText, c["text"])
    p.setColor(QPalette.PlaceholderText, c["dim"])
    p.setColor(QPalette.Highlight, c["highlight"])
    p.setColor(QPalette.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.Link, c["link"])
    p.setColor(QPalette.Mid, QColor("#3a3d45"))
    p.setColor(QPalette.Midlight, QColor("#34373e"))
    p.setColor(QPalette.Dark, QColor("#18191c"))
    p.setColor(QPalette.Light, QColor("#474a52"))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor("#6b6e75"))
    return p


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(style_sheet())
