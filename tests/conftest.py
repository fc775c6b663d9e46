import os
import tempfile

# Every Qt test runs without a display, here and in CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Settings (recent projects, window layout) go to a folder of the test session,
# never to the user's real ~/.config/Kestrel. Set before Qt reads it.
TEST_CONFIG = tempfile.mkdtemp(prefix="kestrel-test-config-")
os.environ["XDG_CONFIG_HOME"] = TEST_CONFIG

from tests.smalldisk import small_disk  # noqa: E402,F401  (a tmpfs for disk-full tests)


import gc  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_main_thread():
    """As the app does (app.shell.gc_guard): the cyclic collector never runs on a worker
    thread, where it would free Qt objects of an earlier test's window; the main thread
    collects between tests."""
    gc.disable()
    yield
    gc.collect()
