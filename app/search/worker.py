"""State the Search tab's worker thread owns: its own Project connection, the
embedders, the vector stores (one per run, kept in step before each search), the
classifiers, and the one picture reader thumbnails come through. Touched only on
that thread."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage

from widgets.search_panel import THUMB


class SearchWorker:
    def __init__(self, root, spec=None, api_key: str | None = None):
        self.root = root
        self.spec, self.api_key = spec, api_key      # None: the project's setting
        self.project = None
        self.embedders: dict = {}
        self.stores: dict = {}
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

    def store(self, run_id: int, progress=None):
        """The run's store in the chosen kind, brought up to date (only the media
        changed since its last sync are re-read; nothing when none changed).
        ``progress(done, total)``: media read so far, for a long first sync."""
        from app.search.stores import open_store
        from app.search.sync import sync

        store = self.stores.get(run_id)
        if store is None:
            store = self.stores[run_id] = open_store(self.open(), run_id, self.spec, self.api_key)
        sync(self.project, run_id, store, progress)
        return store

    def use_store(self, spec, api_key: str | None):
        """Switch to another store kind: opened and synced before the old ones close,
        so a store that cannot be reached leaves the current one in place."""
        from app.search.stores import open_store
        from app.search.sync import sync

        project = self.open()
        run_ids = list(self.stores)
        opened = {}
        try:
            for run_id in run_ids:
                opened[run_id] = open_store(project, run_id, spec, api_key)
                sync(project, run_id, opened[run_id])
        except BaseException:
            for store in opened.values():
                store.close()
            raise
        self.close_stores()
        self.stores, self.spec, self.api_key = opened, spec, api_key

    def classifier(self, run_id: int, version: int):
        cached = self.classifiers.get(run_id)
        if cached is None or cached[0] != version:
            from app.search.index import train_classifier

            self.classifiers[run_id] = (version, train_classifier(self.open(), run_id))
        return self.classifiers[run_id][1]

    def embedded(self, run_id: int) -> None:
        self.classifiers.pop(run_id, None)

    def close_stores(self) -> None:
        for store in self.stores.values():
            store.close()
        self.stores = {}

    def close(self) -> None:
        self.close_stores()
        if self.pictures is not None:
            self.pictures.close()
            self.pictures = None
        if self.project is not None:
            self.project.close()
            self.project = None


def thumbnail(worker: SearchWorker, key) -> QImage:
    """A small QImage of an image, a video frame or a box (QImage is thread-safe).
    Video frames come through the worker's one bounded reader, not a reader each."""
    from widgets.imaging import load_image

    project = worker.open()
    media = project.media.get(key.media_id)
    path = project.media.path(media)
    if media.kind == "video":
        from app.store.pictures import PictureReader
        from widgets.imaging import to_qimage

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
