"""Pretrained weights in the window: the download setting (asked once, kept in the
user's settings, handed to every trainer as KESTREL_ALLOW_DOWNLOAD /
KESTREL_WEIGHTS_MIRROR), Model → Weights… (training.choice.weights_rows), and
downloads or imports on a thread with progress and Cancel.

The window builds it, adds ``actions()`` to the Model menu and hands it to the
Training controller, which asks it for the policy and re-marks its templates on
``changed``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.tasks.torch_import import import_torch
from training.weights import ENV_ALLOW, ENV_MIRROR, Policy
from widgets.actions import make_action

ALLOW_KEY, MIRROR_KEY = "weights/allow_download", "weights/mirror"


class WeightsController(QObject):
    message = Signal(str)
    problem = Signal(str, str)
    changed = Signal()                  # a file arrived or the setting changed
    _progress = Signal(str, object)     # from the worker thread: text, fraction or None
    _finished = Signal(bool, str)       # ok, text

    def __init__(self, host, settings=None, *, ask: Callable[[str], bool] | None = None,
                 env: dict | None = None):
        super().__init__(host)
        self.host = host
        self.settings = settings        # QSettings (None: kept for this session only)
        self._memory: dict[str, str] = {}
        self.ask = ask or self._ask_box  # tests inject the answer
        # KESTREL_ALLOW_DOWNLOAD set when the app started decides (and is not asked)
        source = os.environ if env is None else env
        self._env_policy = Policy.from_env(source)
        self._env_decides = ENV_ALLOW in source
        self.dialog = None
        self._worker: threading.Thread | None = None
        self._cancel = threading.Event()
        self._progress.connect(self._show_progress)
        self._finished.connect(self._done)

    # -- the setting ---------------------------------------------------------------------
    def _get(self, key: str) -> str | None:
        if self.settings is not None:
            value = self.settings.value(key)
            return None if value is None else str(value)
        return self._memory.get(key)

    def _set(self, key: str, value: str) -> None:
        if self.settings is not None:
            self.settings.setValue(key, value)
        else:
            self._memory[key] = value

    def decided(self) -> bool:
        return self._env_decides or self._get(ALLOW_KEY) is not None

    def policy(self) -> Policy:
        allow = (self._env_policy.allow_download if self._env_decides
                 else self._get(ALLOW_KEY) == "true")
        mirror = self._get(MIRROR_KEY) or self._env_policy.mirror
        return Policy(allow, mirror or None)

    def set_allow(self, on: bool) -> None:
        self._env_decides = False
        self._set(ALLOW_KEY, "true" if on else "false")
        self._refresh()

    def set_mirror(self, url: str) -> None:
        self._set(MIRROR_KEY, url.strip())
        self._refresh()

    def trainer_env(self) -> dict[str, str]:
        """What a trainer process needs to follow this setting."""
        env = self.policy().env()
        env.setdefault(ENV_MIRROR, "")
        return env

    def ask_download_once(self, what: str) -> bool:
        """Whether missing weights may be downloaded: the setting, or (never asked
        yet) the answer to one question, kept."""
        if not self.decided():
            mirror = self.policy().mirror or "download.pytorch.org"
            self.set_allow(self.ask(f"{what}\n\nKestrel can download missing pretrained weights "
                                    f"from {mirror} (checked against their published hash). "
                                    "Allow downloads? (Change it later in Model → Weights…)"))
        return self.policy().allow_download

    def _ask_box(self, text: str) -> bool:
        answer = QMessageBox.question(self.host, "Download pretrained weights?", text,
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        return answer == QMessageBox.Yes

    # -- Model → Weights… ----------------------------------------------------------------
    def actions(self, parent) -> dict:
        return {"weights": make_action(parent, "&Weights…", self.show_dialog)}

    def show_dialog(self):
        from widgets.weights_dialog import WeightsDialog

        if self.dialog is None:
            self.dialog = WeightsDialog(self.host)
            self.dialog.download_requested.connect(self.download)
            self.dialog.import_requested.connect(self._choose_file)
            self.dialog.cancel_requested.connect(self._cancel.set)
            self.dialog.allow_changed.connect(self.set_allow)
            self.dialog.mirror_changed.connect(self.set_mirror)
        self._refresh()
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def _refresh(self) -> None:
        if self.dialog is not None:
            from training.choice import weights_rows

            policy = self.policy()
            self.dialog.set_policy(policy.allow_download, self._get(MIRROR_KEY) or "")
            self.dialog.set_rows(weights_rows(policy))
        self.changed.emit()

    # -- work on a thread ----------------------------------------------------------------
    def busy(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def download(self, refs: list[str]) -> None:
        """Fetch ``refs`` into the cache (hash-checked), one after the other."""
        from training.download import DownloadError
        from training.weights import fetch

        policy = self.policy()

        def work() -> None:
            for n, ref in enumerate(refs, 1):
                def progress(done: int, total: int | None, ref=ref, n=n) -> None:
                    size = f"{done / 2**20:.1f}" + (f" of {total / 2**20:.1f}" if total else "")
                    self._progress.emit(f"downloading {ref} ({n}/{len(refs)}): {size} MB",
                                        done / total if total else None)
                try:
                    fetch(ref, policy, progress, self._cancel.is_set)
                except DownloadError as exc:
                    self._finished.emit(False, str(exc))
                    return
            self._finished.emit(True, f"downloaded {len(refs)} file{'s' * (len(refs) > 1)}")
        self._start(work, f"downloading {refs[0]}…")

    def import_file(self, path: str | Path) -> None:
        """Check a file against its torchvision name and put it in the cache."""
        from training.weights import WeightsError, describe_file, import_weights

        def work() -> None:
            import_torch()            # describe_file may look in torchvision's enums
            try:
                dest = import_weights(path)
            except (WeightsError, OSError) as exc:
                self._finished.emit(False, str(exc))
                return
            self._finished.emit(True, f"imported {describe_file(dest.name) or dest.name} "
                                      f"into {dest.parent}")
        self._start(work, f"checking {Path(path).name}…")

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.dialog or self.host, "Import a weights file",
                                              "", "PyTorch weights (*.pth *.pt)")
        if path:
            self.import_file(path)

    def _start(self, work: Callable[[], None], text: str) -> None:
        if self.busy():
            self.message.emit("a weights download is already running")
            return
        self._cancel.clear()
        if self.dialog is not None:
            self.dialog.set_busy(True, text)
        self._worker = threading.Thread(target=work, name="kestrel-weights", daemon=True)
        self._worker.start()

    def _show_progress(self, text: str, fraction) -> None:
        if self.dialog is not None:
            self.dialog.set_progress(text, fraction)

    def _done(self, ok: bool, text: str) -> None:
        self._worker = None
        if self.dialog is not None:
            self.dialog.set_busy(False, text)
        self._refresh()
        if ok:
            self.message.emit(text)
        else:
            self.problem.emit("Pretrained weights", text)

    def shutdown(self) -> None:
        """Stop a download at its next chunk; never waits."""
        self._cancel.set()
