import os
import tempfile

# Every Qt test runs without a display, here and in CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Settings (recent projects, window layout) go to a folder of the test session,
# never to the user's real ~/.config/Kestrel. Set before Qt reads it.
TEST_CONFIG = tempfile.mkdtemp(prefix="kestrel-test-config-")
os.environ["XDG_CONFIG_HOME"] = TEST_CONFIG

from tests.smalldisk import small_disk  # noqa: E402,F401  (a tmpfs for disk-full tests)
