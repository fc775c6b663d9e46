"""Menus and window-wide shortcuts of the main window."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog

from app.shell.shortcuts import SHORTCUTS


def build_menus(w) -> dict[str, QAction]:
    actions: dict[str, QAction] = {}

    def add(menu, key: str, text: str, slot, shortcut=None, checkable=False, checked=False):
        action = QAction(text, w)
        if shortcut:
            action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
        if checkable:
            action.setCheckable(True)
            action.setChecked(checked)
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        w.addAction(action)  # shortcuts work whichever dock has focus
        actions[key] = action
        return action

    bar = w.menuBar()
    m = bar.addMenu("&File")
    add(m, "new", "&New project…", lambda: _new_project(w), QKeySequence.New)
    add(m, "open", "&Open project…", lambda: _open_project(w), QKeySequence.Open)
    m.addSeparator()
    for key, action in w.datasets.actions().items():   # import media / labels, export
        m.addAction(action)
        w.addAction(action)
        actions[key] = action
    m.addSeparator()
    add(m, "quit", "&Quit", w.close, QKeySequence.Quit)

    m = bar.addMenu("&Edit")
    undo = w.doc.undo_stack.createUndoAction(w, "&Undo")
    undo.setShortcut(QKeySequence.Undo)
    redo = w.doc.undo_stack.createRedoAction(w, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    for key, action in (("undo", undo), ("redo", redo)):
        m.addAction(action)
        w.addAction(action)
        actions[key] = action
    m.addSeparator()
    add(m, "draw", "&Draw box", lambda: w.canvas.set_draw_mode(True), "W")
    add(m, "copy", "&Copy boxes", w.annotator.copy_selection, QKeySequence.Copy)
    add(m, "paste", "&Paste boxes", w.annotator.paste, QKeySequence.Paste)
    add(m, "copy_previous", "Copy boxes from p&revious image",
        lambda: w.annotator.copy_from_previous(w.previous_media_id()), "Ctrl+Shift+V")
    add(m, "delete", "De&lete selected boxes",
        lambda: w.canvas.delete_requested.emit(w.canvas.selected_ids()) if w.canvas.selected_ids() else None,
        [QKeySequence(QKeySequence.Delete), QKeySequence("Backspace")])
    for n in range(1, 10):  # class hot keys: not menu entries (a hidden action has no shortcut)
        QShortcut(QKeySequence(str(n)), w, activated=lambda n=n: w.annotator.apply_hotkey(str(n)))

    m = w.view_menu = bar.addMenu("&View")
    add(m, "fit", "&Fit to window", w.canvas.fit_to_window, "Ctrl+0")
    add(m, "zoom_in", "Zoom &in", w.canvas.zoom_in, [QKeySequence("Ctrl+="), QKeySequence("Ctrl++")])
    add(m, "zoom_out", "Zoom &out", w.canvas.zoom_out, "Ctrl+-")
    add(m, "labels", "Show box &labels", w.canvas.set_labels_visible, "L", checkable=True,
        checked=True)

    m = bar.addMenu("&Go")
    add(m, "prev", "&Previous media", lambda: w.step_media(-1), "A")
    add(m, "next", "&Next media", lambda: w.step_media(1), "D")
    add(m, "first", "&First media", w.first_media, "Home")
    add(m, "last", "&Last media", w.last_media, "End")
    add(m, "unlabelled", "Next &unlabelled", w.next_unlabelled, "U")

    m = bar.addMenu("Vi&deo")
    add(m, "outside", "Selected objects lea&ve the picture from this frame",
        lambda: w.video.mark_selected_outside(), "O")
    w.video.tracking.bind(add(m, "track_forward", "&Track forward",
                              lambda: w.video.tracking.start(), "T"))
    add(m, "interpolate", "Re-&interpolate all tracks",
        lambda: w.video.edits.interpolate(w.video.media_id) if w.video.media_id else None)
    add(m, "sampling", "&Dataset frames of this video…", lambda: w.video.choose_sampling())

    m = w.help_menu = bar.addMenu("&Help")
    add(m, "shortcuts", "&Keyboard shortcuts", lambda: _shortcut_sheet(w), "F1")
    add_dock_toggles(w)
    return actions


def add_dock_toggles(w) -> None:
    """Let the user bring back closed panels (View menu)."""
    from PySide6.QtWidgets import QDockWidget

    w.view_menu.addSeparator()
    for dock in w.findChildren(QDockWidget):
        w.view_menu.addAction(dock.toggleViewAction())


def _shortcut_sheet(w) -> None:
    from widgets.shortcut_sheet import ShortcutSheet

    w._sheet = ShortcutSheet(SHORTCUTS, w)
    w._sheet.show()


def _new_project(w) -> None:
    folder = QFileDialog.getExistingDirectory(w, "Folder for the new project")
    if folder:
        from app.shell.startup import switch_project

        switch_project(w, folder, create=True)


def _open_project(w) -> None:
    folder = QFileDialog.getExistingDirectory(w, "Open a Kestrel project folder")
    if folder:
        from app.shell.startup import switch_project

        switch_project(w, folder)
