"""The project's repositories: one cohesive part of ``kestrel.db`` each, composed by
``Project`` (``project.media``, ``project.boxes``, ``project.runs`` …). All SQL of
Kestrel lives in ``app.store``; these classes hold most of it."""

from app.store.repos.base import Database, now

__all__ = ["Database", "now"]
