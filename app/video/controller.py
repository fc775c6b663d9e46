"""Shows video media: the player decodes frames off the GUI thread, the timeline
steers it, and edits on a video go through the track-aware ``VideoEdits``.

It drives the annotator (which shows frames on the canvas) and the timeline it is
given; it reports to the window only through ``message`` and ``problem``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QWidget

from app.store import sampling
from app.video.commands import VideoEdits
from app.video.player import VideoPlayer
from app.video.track_forward import TrackForwardController
from widgets.actions import make_action
from widgets.timeline import Timeline


class VideoController(QObject):
    message = Signal(str)            # status bar
    problem = Signal(str, str)       # title, text

    def __init__(self, project, doc, annotator, timeline: Timeline, host: QWidget):
        """``host``: the widget keyboard shortcuts live on and dialogs open over."""
        super().__init__(host)
        self.project = project
        self.annotator = annotator
        self.host = host
        self.edits = VideoEdits(doc)
        self.player = VideoPlayer(self)
        self.timeline = timeline
        timeline.hide()
        timeline.frame_requested.connect(self.player.request)
        timeline.play_toggled.connect(self.player.set_playing)
        self.player.frame_shown.connect(timeline.set_frame)
        self.player.playing_changed.connect(timeline.set_playing)
        self.player.frame_ready.connect(self._show)
        self.player.opened.connect(self._opened)
        self.player.open_failed.connect(self._open_failed)
        self.player.error.connect(self.message)
        self.shortcuts = timeline.install_shortcuts(host)
        self._enable_shortcuts(False)
        doc.boxes_changed.connect(self._boxes_changed)
        self.media_id: int | None = None
        self.tracking = TrackForwardController(self, annotator.canvas)
        self.tracking.message.connect(self.message)
        self.tracking.problem.connect(self.problem)

    def _enable_shortcuts(self, on: bool) -> None:
        # Only while a video is shown: on images, arrows nudge boxes and Space pans.
        for s in self.shortcuts:
            s.setEnabled(on)

    def open(self, media) -> None:
        """Show a video: the timeline from the stored probe at once, frames as the
        decode thread delivers them."""
        self.close_media()
        self.media_id = media.id
        self.annotator.frame_edits = self.edits
        self.annotator.canvas.arrows_nudge = False    # arrows move in time; Alt+arrows nudge
        self.player.open(self.project.media.path(media), media.frame_count, media.fps)
        self.timeline.set_video(media.frame_count or 0, media.fps or 25.0)
        self._update_markers()
        self.timeline.show()
        self._enable_shortcuts(True)
        self.tracking.update_action()

    def _opened(self, frame_count: int, fps: float) -> None:
        if (frame_count, fps) != (self.timeline.count, self.timeline.fps):
            self.timeline.set_video(frame_count, fps)
            self._update_markers()

    def _open_failed(self, reason: str) -> None:
        self.close_media()
        self.annotator.clear()
        self.problem.emit("Cannot play video", reason)

    def close_media(self) -> None:
        if self.media_id is None:
            return
        self.player.close()
        self.media_id = None
        self.annotator.frame_edits = None
        self.annotator.canvas.arrows_nudge = True
        self.timeline.hide()
        self._enable_shortcuts(False)
        self.tracking.update_action()

    def shutdown(self) -> None:
        self.close_media()
        self.tracking.shutdown()

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
    def actions(self, parent) -> dict:
        track = make_action(parent, "&Track forward", self.tracking.start, "T")
        self.tracking.bind(track)
        return {
            "outside": make_action(parent, "Selected objects lea&ve the picture from this frame",
                                   self.mark_selected_outside, "O"),
            "track_forward": track,
            "interpolate": make_action(parent, "Re-&interpolate all tracks", self.interpolate_all),
            "sampling": make_action(parent, "&Dataset frames of this video…", self.choose_sampling),
        }

    def interpolate_all(self) -> None:
        if self.media_id is not None:
            self.edits.interpolate(self.media_id)

    def mark_selected_outside(self) -> None:
        """The selected objects leave the picture from this frame on."""
        if self.media_id is None:
            return
        frame = self.annotator.frame
        for box_id in self.annotator.canvas.selected_ids():
            # a ghost (negative id) stands for a track that ended before this frame
            track = -box_id if box_id < 0 else self.project.boxes.get(box_id).track_id
            if track is not None:
                self.edits.mark_outside(self.media_id, track, frame)

    def choose_sampling(self) -> None:
        """Which frames of this video go into exports and training."""
        if self.media_id is None:
            return
        current = sampling.describe(self.project.frames.sampling(self.media_id))
        choices = ["frames with boxes", "every Nth frame", "a frame range", "no frames"]
        choice, ok = QInputDialog.getItem(self.host, "Dataset frames",
                                          f"Now: {current}.\nUse:", choices, 0, False)
        if not ok:
            return
        last = max(0, self.player.frame_count - 1)
        if choice == choices[0]:
            spec = {"mode": "boxes"}
        elif choice == choices[3]:
            spec = {"mode": "none"}
        elif choice == choices[1]:
            step, ok = QInputDialog.getInt(self.host, "Dataset frames", "Every Nth frame, N =",
                                           10, 1, max(1, last))
            if not ok:
                return
            spec = {"mode": "every", "step": step}
        else:
            start, ok = QInputDialog.getInt(self.host, "Dataset frames", "First frame:", 0, 0, last)
            if not ok:
                return
            end, ok = QInputDialog.getInt(self.host, "Dataset frames", "Last frame:", last, start, last)
            if not ok:
                return
            spec = {"mode": "range", "start": start, "end": end, "step": 1}
        self.edits.set_sampling(self.media_id, spec)
        frames = sampling.sample_frames(self.project, self.project.media.get(self.media_id))
        self.message.emit(f"dataset frames: {sampling.describe(spec)} ({len(frames)} frames)")
