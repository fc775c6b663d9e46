"""Shows video media: the player decodes frames off the GUI thread, the timeline
steers it, and edits on a video go through the track-aware ``VideoEdits``."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QInputDialog

from app.store import sampling
from app.store.video import VideoError
from app.video.commands import VideoEdits
from app.video.track_forward import TrackForwardController
from app.video.player import VideoPlayer
from widgets.timeline import Timeline


class VideoController(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.project = window.project
        self.annotator = window.annotator
        self.edits = VideoEdits(window.doc)
        self.player = VideoPlayer(self)
        self.timeline = Timeline()
        self.timeline.hide()
        window.central.layout().addWidget(self.timeline)
        self.timeline.frame_requested.connect(self.player.request)
        self.timeline.play_toggled.connect(self.player.set_playing)
        self.player.frame_shown.connect(self.timeline.set_frame)
        self.player.playing_changed.connect(self.timeline.set_playing)
        self.player.frame_ready.connect(self._show)
        self.player.error.connect(lambda text: window.statusBar().showMessage(text, 6000))
        self.shortcuts = self.timeline.install_shortcuts(window)
        self._enable_shortcuts(False)
        window.doc.boxes_changed.connect(self._boxes_changed)
        self.media_id: int | None = None
        self.tracking = TrackForwardController(self)

    def _enable_shortcuts(self, on: bool) -> None:
        # Only while a video is shown: on images, arrows nudge boxes and Space pans.
        for s in self.shortcuts:
            s.setEnabled(on)

    def open(self, media) -> None:
        self.close_media()
        try:
            self.player.open(self.project.media.path(media))
        except VideoError as exc:
            self.annotator.canvas.set_image(None)
            self.annotator.canvas.set_boxes([])
            self.window.inform("Cannot play video", str(exc), warning=True)
            return
        self.media_id = media.id
        self.annotator.frame_edits = self.edits
        self.timeline.set_video(self.player.frame_count, self.player.fps)
        self._update_markers()
        self.timeline.show()
        self._enable_shortcuts(True)
        self.tracking.update_action()

    def close_media(self) -> None:
        if self.media_id is None:
            return
        self.player.close()
        self.media_id = None
        self.annotator.frame_edits = None
        self.timeline.hide()
        self._enable_shortcuts(False)
        self.tracking.update_action()

    def _show(self, index: int, image) -> None:
        if self.media_id is not None:
            self.annotator.show_frame(self.media_id, index, image)

    def _boxes_changed(self, media_ids) -> None:
        if self.media_id in media_ids:
            self._update_markers()

    def _update_markers(self) -> None:
        box_frames, keyframes = self.edits.markers(self.media_id)
        self.timeline.set_markers(box_frames, keyframes)

    # -- menu actions --------------------------------------------------------------
    def mark_selected_outside(self) -> None:
        """The selected objects leave the picture from this frame on."""
        if self.media_id is None:
            return
        frame = self.annotator.frame
        for box_id in self.annotator.canvas.selected_ids():
            box = self.project.boxes.get(box_id)
            if box.track_id is not None:
                self.edits.mark_outside(self.media_id, box.track_id, frame)

    def choose_sampling(self) -> None:
        """Which frames of this video go into exports and training."""
        if self.media_id is None:
            return
        current = sampling.describe(self.project.frames.sampling(self.media_id))
        choices = ["frames with boxes", "every Nth frame", "a frame range", "no frames"]
        choice, ok = QInputDialog.getItem(self.window, "Dataset frames",
                                          f"Now: {current}.\nUse:", choices, 0, False)
        if not ok:
            return
        last = self.player.frame_count - 1
        if choice == choices[0]:
            spec = {"mode": "boxes"}
        elif choice == choices[3]:
            spec = {"mode": "none"}
        elif choice == choices[1]:
            step, ok = QInputDialog.getInt(self.window, "Dataset frames", "Every Nth frame, N =",
                                           10, 1, max(1, last))
            if not ok:
                return
            spec = {"mode": "every", "step": step}
        else:
            start, ok = QInputDialog.getInt(self.window, "Dataset frames", "First frame:", 0, 0, last)
            if not ok:
                return
            end, ok = QInputDialog.getInt(self.window, "Dataset frames", "Last frame:", last, start, last)
            if not ok:
                return
            spec = {"mode": "range", "start": start, "end": end, "step": 1}
        self.edits.set_sampling(self.media_id, spec)
        frames = sampling.sample_frames(self.project, self.project.media.get(self.media_id))
        self.window.statusBar().showMessage(
            f"dataset frames: {sampling.describe(spec)} ({len(frames)} frames)", 6000)
