"""The menu bar, laid out from the actions the controllers own.

``MENUS`` says where each action goes; ``build_menus`` adds every action to the
window too, so its shortcut works whichever dock has focus. The window's own
actions (projects, quit, undo/redo, the shortcut sheet) are made here.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog

from app.shell.shortcuts import SHORTCUTS
from widgets.actions import make_action

# menu title → action keys in order; None is a separator, "docks" the dock toggles
MENUS: list[tuple[str, list[str | None]]] = [
    ("&File", ["new", "open", None, "import_media", "import_labels", "export", None, "quit"]),
    ("&Edit", ["undo", "redo", None, "draw", "draw_new_track", "copy", "paste", "copy_previous",
               "delete", None, "no_objects", "needs_review", None, "accept_proposals"]),
    ("&View", ["fit", "zoom_in", "zoom_out", "labels", None, "docks"]),
    ("&Go", ["prev", "next", "first", "last", "unlabelled", "label_next"]),
    ("Vi&deo", ["outside", "track_forward", "interpolate", "sampling", None, "new_track_option"]),
    ("&Model", ["import_checkpoint", "weights", None, "predict_all", "accept_shown", "review",
                "metrics", None, "find_suspects", "near_duplicates"]),
    ("&Help", ["shortcuts"]),
]


def shell_actions(w) -> dict[str, QAction]:
    """The window's own: projects, quit, undo/redo, the shortcut sheet."""
    undo = w.doc.undo_stack.createUndoAction(w, "&Undo")
    undo.setShortcut(QKeySequence.Undo)
    redo = w.doc.undo_stack.createRedoAction(w, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    return {
        "new": make_action(w, "&New project…", lambda: _ask_project(w, create=True), QKeySequence.New),
        "open": make_action(w, "&Open project…", lambda: _ask_project(w, create=False),
                            QKeySequence.Open),
        "quit": make_action(w, "&Quit", w.close, QKeySequence.Quit),
        "undo": undo,
        "redo": redo,
        "shortcuts": make_action(w, "&Keyboard shortcuts", lambda: _shortcut_sheet(w), "F1"),
    }


def build_menus(w, actions: dict[str, QAction]) -> dict[str, QAction]:
    bar = w.menuBar()
    placed = set()
    for title, keys in MENUS:
        menu = bar.addMenu(title)
        for key in keys:
            if key is None:
                menu.addSeparator()
            elif key == "docks":    # bring back closed panels
                for dock in w.findChildren(QDockWidget):
                    menu.addAction(dock.toggleViewAction())
            else:
                menu.addAction(actions[key])
                placed.add(key)
    unplaced = set(actions) - placed
    if unplaced:
        raise KeyError(f"actions with no place in the menus: {sorted(unplaced)}")
    for action in actions.values():
        w.addAction(action)
    return actions


def _shortcut_sheet(w) -> None:
    from widgets.shortcut_sheet import ShortcutSheet

    w._sheet = ShortcutSheet(SHORTCUTS, w)
    w._sheet.show()


def _ask_project(w, create: bool) -> None:
    title = "Folder for the new project" if create else "Open a Kestrel project folder"
    folder = QFileDialog.getExistingDirectory(w, title)
    if folder:
        w.project_requested.emit(folder, create)
