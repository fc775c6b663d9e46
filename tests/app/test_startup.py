"""The window starts without torch or Ray: templates, events and all window modules are
torch-free until a model is actually trained, run or embedded."""

import subprocess
import sys


def test_window_and_cli_start_without_importing_torch(tmp_path):
    code = f"""
import sys
from app.shell.demo import make_demo
make_demo({str(tmp_path / 'demo')!r}, n_images=2, video=False).close()
from app.shell.startup import application, open_window
app = application()
w = open_window({str(tmp_path / 'demo')!r})
w.show()
w.restore_last_media()
w.grab()
import app.shell.cli
print(sorted(m for m in ("torch", "torchvision", "ray") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_settings_of_the_tests_never_touch_the_users_folder(qapp):
    from app.shell.startup import settings
    from tests.conftest import TEST_CONFIG

    assert settings().fileName().startswith(TEST_CONFIG)


def test_one_recent_project_reopens_and_the_list_stays_whole(tmp_path):
    """QSettings gives a one-entry list back as a string; plain ``kestrel`` must reopen
    that project, and remembering another must not split it into characters."""
    from app.store.project import Project

    for name in ("projA", "projB"):
        Project.create(tmp_path / name).close()
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen",
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    code = """
import sys
from pathlib import Path
from app.shell.startup import application, recent_projects, remember, settings
application()
which = sys.argv[1]
if which == "remember":
    remember(Path(sys.argv[2]))
else:
    print(repr(recent_projects()))
    print(repr(settings().value("recent_projects")))
"""
    run = lambda *a: subprocess.run([sys.executable, "-c", code, *a], capture_output=True,
                                    text=True, env=env)
    assert run("remember", str(tmp_path / "projA")).returncode == 0
    out = run("show").stdout.splitlines()           # a new process reads the INI file back
    assert eval(out[0]) == [str(tmp_path / "projA")]
    assert run("remember", str(tmp_path / "projB")).returncode == 0
    assert eval(run("show").stdout.splitlines()[0]) == [str(tmp_path / "projB"),
                                                        str(tmp_path / "projA")]


def test_plain_kestrel_reopens_the_last_project(tmp_path):
    from app.store.project import Project

    Project.create(tmp_path / "only").close()
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen",
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    remember = f"""
from pathlib import Path
from app.shell import startup
startup.application()
startup.remember(Path({str(tmp_path / 'only')!r}))
"""
    assert subprocess.run([sys.executable, "-c", remember], env=env).returncode == 0
    code = """
from app.shell import startup
opened = []
def stop(what):
    opened.append(what)
    raise SystemExit(0)
startup.open_window = lambda folder, **kw: stop(str(folder))
startup.start_page = lambda: stop("start page")     # what a broken list would lead to
try:
    startup.run()
except SystemExit:
    pass
print(opened)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == repr([str(tmp_path / "only")])
