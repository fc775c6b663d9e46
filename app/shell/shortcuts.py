"""The window's keyboard map, in one table: the F1 sheet is built from it."""

from __future__ import annotations

SHORTCUTS: list[tuple[str, str]] = [
    ("W", "Draw a box (drag on the image)"),
    ("1 … 9", "Set the class of the selected boxes, or of the next box"),
    ("Click / Ctrl+click", "Select / add to the selection"),
    ("Drag a box / a handle", "Move / resize it"),
    ("Arrow keys (Shift: ×10)", "Images: nudge the selected boxes by a pixel"),
    ("Alt+arrow keys (Shift: ×10)", "Nudge the selected boxes, on images and videos alike"),
    ("Delete / Backspace", "Delete the selected boxes"),
    ("Ctrl+C / Ctrl+V", "Copy / paste boxes"),
    ("Ctrl+Shift+V", "Copy all boxes from the previous image"),
    ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo"),
    ("Wheel, Ctrl+= / Ctrl+-", "Zoom about the cursor / in / out"),
    ("Ctrl+0", "Fit the image to the window"),
    ("Middle drag, Space+drag", "Pan"),
    ("L", "Show or hide box labels"),
    ("A / D", "Previous / next media"),
    ("Home / End", "First / last media"),
    ("U", "Next media not labelled yet"),
    ("N", "Label next: the picture not labelled yet that would teach the model most"),
    ("Enter", "Accept every proposal of the model shown (pre-labels, dashed)"),
    ("Click a proposal", "Accept it as a label; drag or resize it, or press 1 … 9, to make the "
                         "edited box a label"),
    ("Ctrl+click a proposal, Delete", "Dismiss it (the model was wrong)"),
    ("E", "Mark the picture (image or frame) as showing no objects: labelled, a negative; "
          "again to take it off"),
    ("R", "Mark the picture as needing review (left out of training until taken off)"),
    ("Alt+1 … Alt+9", "Toggle the 1st … 9th tag of the image (or click it)"),
    ("Left / Right (Shift: ×10)", "Video: previous / next frame, always (Alt+arrows nudge)"),
    ("W, then drag on another frame", "Video: continue the selected track, or the track of "
                                      "that class drawn last: a keyframe; frames between are "
                                      "interpolated"),
    ("Shift+W", "Video: draw a box as a new track"),
    ("Faint dotted box", "Video: a track's last box on a later frame; drag it to put a "
                         "keyframe here, Delete or O to end the track here"),
    ("Space", "Video: play / pause"),
    ("O", "Video: the selected objects leave the picture from this frame"),
    ("T", "Video: track the selected box forward (stops when unsure; Cancel in the status bar)"),
    ("F1", "This sheet"),
]
