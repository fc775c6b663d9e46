"""A real small or read-only file system for fault-injection tests: a tmpfs mounted
for the test (needs root, or CAP_SYS_ADMIN). Where mounting is not allowed the test
is skipped, never counted as a pass."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest


class SmallDisk:
    def __init__(self, folder: Path, size: str):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or proc.returncode})")
        self.ballast = folder / "ballast"

    def fill(self, leave: int = 0) -> None:
        """Use up the free space but ``leave`` bytes (the disk is then "full")."""
        with open(self.ballast, "ab") as f:
            while True:
                free = os.statvfs(self.folder).f_bavail * os.statvfs(self.folder).f_frsize
                if free <= leave:
                    break
                try:
                    f.write(b"\0" * min(free - leave, 1 << 16))
                    f.flush()
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break

    def free_up(self) -> None:
        self.ballast.unlink(missing_ok=True)

    def read_only(self, on: bool = True) -> None:
        subprocess.run(["mount", "-o", f"remount,{'ro' if on else 'rw'}", str(self.folder)], check=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.folder)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    disks = []

    def make(size: str = "2M", name: str = "disk") -> SmallDisk:
        disks.append(SmallDisk(tmp_path / name, size))
        return disks[-1]

    yield make
    for disk in disks:
        disk.unmount()
