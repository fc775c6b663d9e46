import os

# Every Qt test runs without a display, here and in CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.smalldisk import small_disk  # noqa: E402,F401  (a tmpfs for disk-full tests)
