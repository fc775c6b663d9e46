import os

# Every Qt test runs without a display, here and in CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
