"""Background work for controllers: one worker thread with its own Project."""
