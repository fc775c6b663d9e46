"""Video → Track forward: the selected box follows its object through the next
frames (``app.video.tracking``), and the result becomes keyframes of its track.

MIL costs ~40 ms a frame at 640x360, so it runs on a daemon thread with its own
``VideoReader`` (readers are not thread-safe; the player's belongs to its thread).
Progress and Cancel sit in the status bar; labelling goes on meanwhile. The boxes
arrive in one undoable command at the end, with a message saying how far it got
and why it stopped.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from app.store.video import VideoReader
from app.tasks.thread import ThreadJob
from app.video.tracking import MAX_FRAMES, MIN_CONFIDENCE, TrackForward
from widgets.task_progress import TaskProgress


class _TrackJob(ThreadJob):
    """One tracking job on a daemon thread; its signals arrive on the GUI thread."""

    started_total = Signal(int)      # frames it may track at most
    stepped = Signal(int, int)       # frames tracked, frame reached
    done = Signal(list, object)      # [(frame, rect)], app.video.tracking.Stop
    failed = Signal(str)
    finished = Signal()              # after done or failed

    def __init__(self, path, start: int, rect, until: int | None, parent=None):
        super().__init__("kestrel-track", parent)
        self.path, self.start_frame, self.rect, self.until = path, start, rect, until
        self.max_frames, self.min_confidence = MAX_FRAMES, MIN_CONFIDENCE
        self.cancelled = threading.Event()

    def detach(self) -> None:
        """Window closing: stop before the next frame and report nothing more."""
        self.cancelled.set()
        super().detach()

    def run(self) -> None:
        try:
            with VideoReader(self.path) as reader:
                job = TrackForward(reader, self.start_frame, self.rect, until=self.until,
                                   max_frames=self.max_frames, min_confidence=self.min_confidence,
                                   cancel=self.cancelled.is_set)
                self.emit(self.started_total, max(0, job.last_frame - self.start_frame))
                boxes = []
                for step in job:
                    boxes.append((step.frame, step.box))
                    self.emit(self.stepped, len(boxes), step.frame)
            self.emit(self.done, boxes, job.stop)
        except Exception as exc:  # reported in the window, never a crash
            self.emit(self.failed, f"{type(exc).__name__}: {exc}")
        self.emit(self.finished)


class TrackForwardController(QObject):
    finished = Signal(str)           # the message shown at the end (tests wait on it)
    message = Signal(str)            # status bar
    problem = Signal(str, str)       # title, text

    def __init__(self, video, canvas):
        """``video``: the VideoController (project, media on screen, edits);
        ``progress`` is a status-bar widget the window places."""
        super().__init__(video)
        self.video = video
        self.canvas = canvas
        self.thread: _TrackJob | None = None
        self.action = None
        self.progress = TaskProgress()
        self.progress.cancel_requested.connect(self.cancel)
        canvas.selection_changed.connect(lambda _ids: self.update_action())

    def bind(self, action) -> None:
        """The menu action this controller enables."""
        self.action = action
        self.update_action()

    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def update_action(self) -> None:
        if self.action is not None:
            ids = self.canvas.selected_ids()   # a ghost (id < 0) has no box on this frame
            self.action.setEnabled(self.video.media_id is not None and not self.running()
                                   and len(ids) == 1 and ids[0] >= 0)

    def start(self) -> None:
        """Track the one selected box forward from the frame shown."""
        ids = self.canvas.selected_ids()
        media_id = self.video.media_id
        if media_id is None or len(ids) != 1 or ids[0] < 0 or self.running():
            return
        project = self.video.project
        box = project.boxes.get(ids[0])
        until = None
        if box.track_id is not None:   # the user's own later keyframes and markers win
            keys = [b.frame for b in project.tracks.keyframes(media_id, box.track_id)]
            later = [f for f in keys + project.tracks.outside_frames(media_id, box.track_id)
                     if f > box.frame]
            until = min(later, default=None)
        self.box_id = box.id
        self.thread = _TrackJob(project.media.path(project.media.get(media_id)), box.frame,
                                   box.rect, until, self)
        self.progress.start(f"Tracking from frame {box.frame}", 0)   # at once: Cancel works
        self.thread.started_total.connect(
            lambda total: self.progress.start(f"Tracking from frame {box.frame}", total))
        self.thread.stepped.connect(lambda n, frame: self.progress.set_progress(
            n, f"Tracking: frame {frame}"))
        self.thread.done.connect(self._done)
        self.thread.failed.connect(self._failed)
        self.thread.finished.connect(self.update_action)
        self.thread.start()
        self.update_action()

    def cancel(self) -> None:
        if self.running():
            self.thread.cancelled.set()

    def _done(self, boxes: list, stop) -> None:
        n = len(boxes)
        if boxes:
            try:
                self.video.edits.add_tracked(self.box_id, boxes)
            except KeyError:   # the start box was deleted meanwhile
                self._failed("the box was deleted while it was being tracked")
                return
        text = f"Tracked {n} frame{'s' if n != 1 else ''}; stopped: {stop.text}"
        self.progress.finish(text)     # stays in the status bar until dismissed: the why
        self.message.emit(text)
        self.finished.emit(text)

    def _failed(self, text: str) -> None:
        self.progress.finish()
        self.problem.emit("Track forward failed", text)
        self.finished.emit(text)

    def shutdown(self) -> None:
        """Window closing: the job stops before its next frame and its result is
        dropped; nothing waits for it (it owns its reader)."""
        if self.running():
            self.thread.detach()
