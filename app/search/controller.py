"""SearchController: the visual search panel, project embedding and tag suggestions
in the main window. Embedding, search and the classifier run on one worker thread
(torch is imported there, only when an embedder is needed), with its own Project
connection; results come back as queued Qt signals. Answers for a picture the user
has left are dropped (latest request wins).

The window gives it the project, the document, the annotator (what is on screen),
the canvas (the selected box) and the tags panel (suggestions), and wires it to the
training runs; it asks for media to be opened with ``open_requested``.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, QRect, Qt, Signal
from PySide6.QtGui import QImage

from widgets.search_panel import THUMB, Neighbour, SearchPanel

K = 24


class _Worker:
    """State touched only on the worker thread."""

    def __init__(self, root):
        self.root = root
        self.project = None
        self.embedders: dict = {}
        self.indexes: dict = {}
        self.classifiers: dict = {}
        self.pictures = None     # one bounded reader for every thumbnail of a search

    def open(self):
        if self.project is None:
            from app.store.project import Project

            self.project = Project.open(self.root)
        return self.project

    def embedder(self, run_id: int):
        if run_id not in self.embedders:
            from app.search.embeddings import load_embedder

            self.embedders[run_id] = load_embedder(self.open(), run_id)
        return self.embedders[run_id]

    def index(self, run_id: int, kinds: tuple[str, ...]):
        if (run_id, kinds) not in self.indexes:
            from app.search.index import EmbeddingIndex

            self.indexes[(run_id, kinds)] = EmbeddingIndex.from_store(self.open(), run_id, kinds)
        return self.indexes[(run_id, kinds)]

    def classifier(self, run_id: int, version: int):
        cached = self.classifiers.get(run_id)
        if cached is None or cached[0] != version:
            from app.search.index import train_classifier

            self.classifiers[run_id] = (version, train_classifier(self.open(), run_id))
        return self.classifiers[run_id][1]

    def embedded(self, run_id: int) -> None:
        self.indexes = {k: v for k, v in self.indexes.items() if k[0] != run_id}
        self.classifiers.pop(run_id, None)

    def close(self) -> None:
        if self.pictures is not None:
            self.pictures.close()
            self.pictures = None
        if self.project is not None:
            self.project.close()
            self.project = None


def thumbnail(worker: _Worker, key) -> QImage:
    """A small QImage of an image, a video frame or a box (QImage is thread-safe).
    Video frames come through the worker's one bounded reader, not a reader each."""
    from widgets.imaging import load_image

    project = worker.open()
    media = project.media.get(key.media_id)
    path = project.media.path(media)
    if media.kind == "video":
        from app.store.pictures import PictureReader
        from app.video.player import to_qimage

        if worker.pictures is None:
            worker.pictures = PictureReader(project, max_open=1, cache_frames=2)
        image = to_qimage(worker.pictures.video(media.id, path).frame(key.frame))
    else:
        image = load_image(path, max_side=None if key.kind == "box" else 2 * THUMB)
    if key.kind == "box":
        b = project.boxes.get(key.box_id)
        image = image.copy(QRect(int(b.x1), int(b.y1), max(1, int(b.x2 - b.x1)),
                                 max(1, int(b.y2 - b.y1))))
    return image.scaled(THUMB, THUMB, Qt.KeepAspectRatio, Qt.SmoothTransformation)


class SearchController(QObject):
    open_requested = Signal(int)                  # a result the user clicked
    _progress = Signal(int, int)
    _embedded = Signal(dict)
    _results = Signal(int, object, str, list)     # request, query image, text, neighbours
    _suggested = Signal(int, list)                # media id, [(tag id, confidence)]
    untagged_suggested = Signal(object, str)      # {media id: (confidence, "tag 0.92")}, note
    _failed = Signal(str)

    def __init__(self, project, doc, annotator, canvas, tags_panel, parent: QObject | None = None):
        super().__init__(parent)
        self.project, self.doc, self.annotator = project, doc, annotator
        self.canvas, self.tags_panel = canvas, tags_panel
        self.panel = SearchPanel()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kestrel-search")
        self._worker = _Worker(self.project.root)
        self._cancel = threading.Event()
        self._request = 0
        self._tags_version = 0
        self.embedding = False
        p = self.panel
        p.embed_requested.connect(self.embed)
        p.cancel_requested.connect(self._cancel.set)
        p.search_current_requested.connect(self.search_current)
        p.search_box_requested.connect(self.search_box)
        p.file_query.connect(self.search_file)
        p.open_requested.connect(self.open_requested)
        p.run_changed.connect(self._run_changed)
        self._progress.connect(self._on_progress)
        self._embedded.connect(self._on_embedded)
        self._results.connect(self._on_results)
        self._suggested.connect(self._on_suggested)
        self._failed.connect(self._on_failed)
        annotator.media_loaded.connect(self._media_loaded)
        doc.tags_changed.connect(self._tags_changed)
        tags_panel.suggestion_accepted.connect(self._accept)
        self.refresh_runs()

    # -- runs --------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        from app.search.embeddings import embedder_runs

        runs = [r for r in embedder_runs(self.project) if r.status in ("finished", "cancelled")]
        current = self.panel.current_run()
        self.panel.set_runs([(r.id, r.name or f"#{r.id} {r.template}") for r in reversed(runs)],
                            current)
        if runs:
            self._status_for(self.panel.current_run())

    def run_finished(self, _run_id: int, _status: str) -> None:
        self.refresh_runs()

    def _run_changed(self, run_id: int) -> None:
        if run_id >= 0:
            self._status_for(run_id)
            self._media_loaded(self.annotator.media_id)

    def _status_for(self, run_id: int | None) -> None:
        if run_id is None:
            return
        n = self.project.embeddings.count(run_id)  # GUI thread: a COUNT, not the rows
        self.panel.set_status(f"{n} items embedded with this run." if n else
                              "Nothing embedded with this run yet: press Embed project.")

    # -- embedding ---------------------------------------------------------------------
    def embed(self) -> None:
        run_id = self.panel.current_run()
        if run_id is None or self.embedding:
            return
        self.embedding = True
        self._cancel.clear()
        self.panel.set_busy("Embedding", 0, 0)
        self._submit(self._embed_job, run_id)

    def _embed_job(self, run_id: int) -> None:
        from app.search.embeddings import embed_project

        w = self._worker
        counts = embed_project(w.open(), run_id, w.embedder(run_id),
                               progress=lambda d, t: self._progress.emit(d, t),
                               cancel=self._cancel.is_set)
        w.embedded(run_id)
        self._embedded.emit(counts)

    def _on_progress(self, done: int, total: int) -> None:
        self.panel.set_busy("Embedding", done, total)

    def _on_embedded(self, counts: dict) -> None:
        self.embedding = False
        self.panel.set_busy(None)
        self.panel.set_status(
            ("Cancelled: " if counts["cancelled"] else "")
            + f"embedded {counts['embedded']}, already there {counts['kept']}"
            + (f", unreadable {counts['failed']}" if counts["failed"] else "") + ".")
        self._media_loaded(self.annotator.media_id)

    # -- search ------------------------------------------------------------------------
    def search_current(self) -> None:
        media_id = self.annotator.media_id
        if media_id is None:
            self.panel.set_status("Open an image first.")
            return
        self._search(("media", media_id), self.annotator.frame or 0)

    def search_box(self) -> None:
        ids = [i for i in self.canvas.selected_ids() if i >= 0]   # not a video track's ghost
        if not ids:
            self.panel.set_status("Select a box on the canvas first.")
            return
        self._search(("box", ids[0]))

    def search_file(self, path: str) -> None:
        from pathlib import Path

        self._search(("file", Path(path)))

    def _search(self, query: tuple, frame: int = 0) -> None:
        run_id = self.panel.current_run()
        if run_id is None:
            return
        self._request += 1
        self.panel.set_status("Searching…")
        self._submit(self._search_job, self._request, run_id, query, frame)

    def _search_job(self, request: int, run_id: int, query: tuple, frame: int) -> None:
        from widgets.imaging import load_image
        from app.search.index import query_vector

        w = self._worker
        project = w.open()
        vector, key = query_vector(project, run_id, query, lambda: w.embedder(run_id), frame)
        kinds = ("box",) if query[0] == "box" else ("image", "frame")
        hits = w.index(run_id, kinds).search(vector, K)
        image = thumbnail(w, key) if key is not None else load_image(query[1]).scaled(
            THUMB, THUMB, Qt.KeepAspectRatio)
        text = {"media": "This picture", "box": f"Box {query[1]}",
                "file": str(query[1])}[query[0]]
        neighbours = []
        for h in hits:
            label = project.media.get(h.key.media_id).name
            if h.key.kind == "frame":
                label += f" · frame {h.key.frame}"
            elif h.key.kind == "box":
                label = f"box {h.key.box_id} · {label}"
            neighbours.append(Neighbour(h.key.media_id, label, h.score, thumbnail(w, h.key)))
        self._results.emit(request, image, text, neighbours)

    def _on_results(self, request: int, image, text: str, neighbours: list) -> None:
        if request != self._request:
            return
        self.panel.set_query(image, text)
        self.panel.set_results(neighbours)
        self.panel.set_status(f"{len(neighbours)} nearest neighbours." if neighbours else
                              "Nothing embedded with this run yet: press Embed project.")

    # -- tag suggestions from the classifier on top ------------------------------------------
    def _media_loaded(self, media_id) -> None:
        self.tags_panel.set_suggestions([])
        run_id = self.panel.current_run()
        if media_id is None or run_id is None:
            return
        self._submit(self._suggest_job, run_id, media_id, self._tags_version)

    def _suggest_job(self, run_id: int, media_id: int, version: int) -> None:
        from app.store.models import EmbeddingKey

        w = self._worker
        vector = w.open().embeddings.get(run_id, EmbeddingKey("image", media_id))
        if vector is None:
            return   # not embedded (yet, or a video): no suggestion rather than a slow one
        clf = w.classifier(run_id, version)
        have = w.project.tags.of(media_id)
        self._suggested.emit(media_id, [s for s in clf.suggest(vector) if s[0] not in have])

    def _on_suggested(self, media_id: int, suggestions: list) -> None:
        if media_id == self.annotator.media_id:
            self.tags_panel.set_suggestions(suggestions)

    def suggest_untagged(self) -> None:
        """The classifier's best tag for every untagged image, for the browser's order
        by suggestion confidence (answered with ``untagged_suggested``)."""
        run_id = self.panel.current_run()
        if run_id is None:
            self.untagged_suggested.emit(None, "tag suggestions need an embedder run: train "
                                         "one (Training tab), then Embed project (Search tab)")
            return
        self._submit(self._suggest_untagged_job, run_id)

    def _suggest_untagged_job(self, run_id: int) -> None:
        from app.search.index import classify_untagged

        project = self._worker.open()
        clf, out = classify_untagged(project, run_id, threshold=0.0)
        names = {t.id: t.name for t in project.tags.all()}
        ranking = {m: (s[0][1], f"{names[s[0][0]]} {s[0][1]:.2f}") for m, s in out.items() if s}
        note = (f"{len(ranking)} untagged images ordered by the classifier's confidence" if ranking
                else "no suggestions: the classifier needs tagged images of two tags or more, "
                "embedded with this run (Search tab)" if not clf.models
                else "no suggestions: no untagged image is embedded with this run yet")
        self.untagged_suggested.emit(ranking, note)

    def _accept(self, tag_id: int) -> None:
        media_id = self.annotator.media_id
        if media_id is not None:
            self.doc.set_tag([media_id], tag_id, True)

    def _tags_changed(self, media_ids) -> None:
        self._tags_version += 1
        if self.annotator.media_id in (media_ids or ()):
            self._media_loaded(self.annotator.media_id)

    # -- plumbing ----------------------------------------------------------------------
    def _submit(self, fn, *args) -> None:
        def job():
            try:
                fn(*args)
            except Exception as exc:  # a failed job is reported, never kills the window
                self._failed.emit(f"{type(exc).__name__}: {exc}")
        try:
            self._pool.submit(job)
        except RuntimeError:  # the window is closing: the pool is shut down
            pass

    def _on_failed(self, message: str) -> None:
        self.embedding = False
        self.panel.set_busy(None)
        self.panel.set_status(message)

    def shutdown(self) -> None:
        """Window closing: stop an embedding job (it checks between pictures), drop
        queued searches; the worker closes its connection when it is done. No waiting."""
        self._cancel.set()
        self._submit(self._worker.close)
        self._pool.shutdown(wait=False)
