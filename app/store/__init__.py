"""The project on disk: SQLite, media probing, label formats. No Qt, no torch."""
