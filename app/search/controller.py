"""SearchController: the visual search panel, project embedding and tag suggestions
in the main window. Embedding, syncing the vector store, search and the classifier
run on one worker thread (torch is imported there, only when an embedder is
needed), with its own Project connection; results come back as queued Qt signals.
Answers for a picture the user has left are dropped (latest request wins).

Searches are filtered by the panel's filter row; the store (embedded or Qdrant) is
the project's setting, changed in the panel's store field. Selected results can be
tagged, or their boxes given a class, as one undoable step of the document.

The window gives it the project, the document, the annotator (what is on screen), the
canvas (selected box) and tags panel (suggestions); it asks with ``open_requested``.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, Qt, Signal

from app.search.worker import SearchWorker, thumbnail
from widgets.search_panel import THUMB, Neighbour, SearchPanel

K = 24


class SearchController(QObject):
    open_requested = Signal(int)                  # a result the user clicked
    message = Signal(str)                         # status bar
    problem = Signal(str, str)                    # title, text: a non-modal warning
    _progress = Signal(int, int)
    _embedded = Signal(dict)
    _results = Signal(int, object, str, list)     # request, query image, text, neighbours
    _suggested = Signal(int, list)                # media id, [(tag id, confidence)]
    untagged_suggested = Signal(object, str)      # {media id: (confidence, "tag 0.92")}, note
    _store_ready = Signal(str, str)               # spec, description
    _note = Signal(int, str)                      # request, progress of a search
    _failed = Signal(str)

    def __init__(self, project, doc, annotator, canvas, tags_panel, parent: QObject | None = None):
        super().__init__(parent)
        self.project, self.doc, self.annotator = project, doc, annotator
        self.canvas, self.tags_panel = canvas, tags_panel
        self.panel = SearchPanel()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kestrel-search")
        self._worker = SearchWorker(self.project.root)
        self._cancel = threading.Event()
        self._request = 0
        self._last: tuple | None = None               # (query, frame) of the last search
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
        p.filters_changed.connect(self._filters_changed)
        p.store_requested.connect(self.use_store)
        p.tag_requested.connect(self.tag_results)
        p.class_requested.connect(self.class_results)
        self._progress.connect(self._on_progress)
        self._embedded.connect(self._on_embedded)
        self._results.connect(self._on_results)
        self._suggested.connect(self._on_suggested)
        self._store_ready.connect(self._on_store_ready)
        self._note.connect(lambda request, text: request == self._request
                           and self.panel.set_status(text))
        self._failed.connect(self._on_failed)
        annotator.media_loaded.connect(self._media_loaded)
        doc.tags_changed.connect(self._tags_changed)
        doc.classes_changed.connect(self.refresh_choices)
        tags_panel.suggestion_accepted.connect(self._accept)
        from app.search.stores import current_spec

        p.store.set_spec(current_spec(project).text)
        self.refresh_choices()
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
        from app.cluster.settings import compute_target
        from app.search.embeddings import embed_project

        w = self._worker
        target = compute_target(w.open())   # the Training tab's Compute choice
        if target is not None:
            from app.search.cluster import embed_on_cluster

            counts = embed_on_cluster(w.open(), run_id, target["address"],
                                      workers=target["workers"],
                                      progress=lambda d, t: self._progress.emit(d, t),
                                      cancel=self._cancel.is_set)
        else:
            counts = embed_project(w.open(), run_id, w.embedder(run_id),
                                   progress=lambda d, t: self._progress.emit(d, t),
                                   cancel=self._cancel.is_set)
        w.embedded(run_id)
        w.store(run_id)             # the new vectors go to the store now, not at the next search
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
        from app.search import filters

        run_id = self.panel.current_run()
        if run_id is None:
            return
        try:
            where = filters.build(self.project, **self.panel.filters.values())
        except filters.FilterError as exc:      # a tag renamed since the list was filled
            self.refresh_choices()
            self.panel.set_status(str(exc))
            return
        self._last = (query, frame)
        self._request += 1
        self.panel.set_status("Searching…")
        self._submit(self._search_job, self._request, run_id, query, frame, where)

    def _search_job(self, request: int, run_id: int, query: tuple, frame: int, where) -> None:
        from app.search import filters
        from app.search.index import query_vector
        from widgets.imaging import load_image

        if request != self._request:        # a newer search is queued: it answers instead
            return
        w = self._worker
        project = w.open()
        vector, key = query_vector(project, run_id, query, lambda: w.embedder(run_id), frame)
        store = w.store(run_id, lambda done, total: self._note.emit(
            request, f"Indexing the run's vectors: {done:,} of {total:,} media…"))
        kinds = ("box",) if query[0] == "box" else ("image", "frame")
        hits = store.search(vector, K, where.also(filters.kinds(kinds)))
        image = thumbnail(w, key) if key is not None else load_image(query[1]).scaled(
            THUMB, THUMB, Qt.KeepAspectRatio)
        text = {"media": "This picture", "box": f"Box {query[1]}",
                "file": str(query[1])}[query[0]]
        if where:
            text += f"\namong: {where.text}"
        neighbours = []
        for h in hits:
            label = project.media.get(h.key.media_id).name
            if h.key.kind == "frame":
                label += f" · frame {h.key.frame}"
            elif h.key.kind == "box":
                label = f"box {h.key.box_id} · {label}"
            try:
                thumb = thumbnail(w, h.key)
            except Exception:   # a moved file or a damaged frame: the result without a picture
                thumb = None
            neighbours.append(Neighbour(h.key.media_id, label, h.score, thumb, tuple(h.key)))
        self._results.emit(request, image, text, [bool(store.count()), neighbours])

    def _on_results(self, request: int, image, text: str, answer: list) -> None:
        if request != self._request:
            return
        anything, neighbours = answer
        self.panel.set_query(image, text)
        self.panel.set_results(neighbours)
        if neighbours:
            self.panel.set_status(f"{len(neighbours)} nearest neighbours.")
        elif anything:
            self.panel.set_status("No embedded item matches these filters.")
        else:
            self.panel.set_status("Nothing embedded with this run yet: press Embed project.")

    def _filters_changed(self) -> None:
        if self._last is not None:
            self._search(*self._last)

    # -- the vector store ------------------------------------------------------------------
    def use_store(self, text: str, api_key: str = "") -> None:
        """Search with another store: checked (opened and brought up to date) on the
        worker before it becomes the project's choice."""
        from app.search.stores import StoreError, parse_spec

        try:
            spec = parse_spec(text)
        except StoreError as exc:
            self.panel.set_status(str(exc))
            self.problem.emit("Vector store", str(exc))
            return
        self.panel.set_status(f"Connecting to {spec.label}…")
        self._submit(self._store_job, spec, api_key or None)

    def _store_job(self, spec, api_key) -> None:
        w = self._worker
        w.use_store(spec, api_key)
        run_id = self.panel.current_run()
        store = w.store(run_id) if run_id is not None else None
        self._store_ready.emit(spec.text, store.description if store else spec.label)

    def _on_store_ready(self, text: str, description: str) -> None:
        from app.search.stores import save_spec

        save_spec(self.project, text)
        self.panel.store.set_spec(text)
        self.panel.set_status(f"Searching in {description}.")
        self.message.emit(f"Vector store: {description}")
        if self._last is not None:
            self._search(*self._last)

    # -- find similar, then label them all ------------------------------------------------------
    def tag_results(self, tag_id: int, items: list) -> None:
        """Give a tag to the media of the selected results: one undoable step."""
        media = sorted({m for _kind, m, _frame, _box in items})
        if not media:
            return
        name = next((t.name for t in self.project.tags.all() if t.id == tag_id), None)
        if name is None:
            return

        def fn(p):
            for media_id in media:
                p.tags.set(media_id, tag_id, True)

        self.doc.edit(f"Tag {name} on {len(media)} search results", fn)
        self.message.emit(f"Tagged {len(media)} media {name} (Ctrl+Z undoes).")
        self._relabelled()

    def class_results(self, class_id: int, items: list) -> None:
        """Give a class to the selected box results: one undoable step."""
        boxes = sorted({b for kind, _m, _f, b in items if kind == "box"})
        boxes = [b for b in boxes if self.project.boxes.exists(b)]
        if not boxes:
            self.panel.set_status("Select box results to give them a class.")
            return
        name = self.project.classes.get(class_id).name
        media = {self.project.boxes.get(b).media_id for b in boxes}

        def fn(p):
            for box_id in boxes:
                p.boxes.update(box_id, class_id=class_id)

        self.doc.edit(f"Set class {name} on {len(boxes)} boxes", fn, media)
        self.message.emit(f"{len(boxes)} boxes are now {name} (Ctrl+Z undoes).")
        self._relabelled()

    def _relabelled(self) -> None:
        """Labels changed: a filtered search shows what now matches."""
        if self._last is not None and any(v is not None for v in
                                          self.panel.filters.values().values()):
            self._search(*self._last)

    def refresh_choices(self, *_args) -> None:
        self.panel.set_choices([(t.id, t.name) for t in self.project.tags.all()],
                               [(c.id, c.name) for c in self.project.classes.all()])

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
        if not media_ids:                   # the tag list itself changed
            self.refresh_choices()
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
        if message.startswith("StoreError"):
            self.problem.emit("Vector store", message.partition(": ")[2])

    def shutdown(self) -> None:
        """Window closing: stop an embedding job (it checks between pictures), drop
        queued searches; the worker closes its connection when it is done. No waiting."""
        self._cancel.set()
        self._submit(self._worker.close)
        self._pool.shutdown(wait=False)
