"""Keeping the project file safe: rolling backups, ``kestrel doctor``, the restore
offered when a damaged project is opened, and noticing other writers."""
