"""``kestrel doctor PROJECT [--restore [BACKUP]]``: check the project file and its
backups; put the newest good backup in place of a damaged file.

Exit codes: 0 the project file is fine (or was restored), 1 it is damaged, 2 a
user error (no such project, a restore refused).
"""

from __future__ import annotations

import sys
from pathlib import Path


class DoctorError(ValueError):
    """A user error, reported by ``kestrel`` as one line with exit code 2."""


def add_doctor_parser(sub) -> None:
    s = sub.add_parser("doctor", help="check the project file; restore the newest good backup")
    s.add_argument("project")
    s.add_argument("--restore", nargs="?", const="", default=None, metavar="BACKUP",
                   help="replace the project file with the newest good backup (or BACKUP)")
    s.add_argument("--force", action="store_true",
                   help="restore even though the project file is fine (its edits since the "
                        "backup are set aside, not lost)")


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


def cmd_doctor(args) -> int:
    from app.store import doctor
    from app.store.backup import backup_dir

    root = Path(args.project).expanduser().absolute()
    if not (root / "kestrel.db").exists() and not backup_dir(root).is_dir():
        raise DoctorError(f"{root} is not a Kestrel project (no kestrel.db)")
    report = doctor.examine(root)
    verdict = "ok" if report.ok else "DAMAGED: " + "; ".join(report.problems[:5])
    size = _size(report.db.stat().st_size) if report.db.exists() else "missing"
    print(f"project file  {report.db}  {size}  {verdict}")
    print(f"backups       {len(report.backups)} in {backup_dir(root)}" + (":" if report.backups else ""))
    for b in report.backups:
        print(f"  {b.path.name}  {_size(b.size)}  {'ok' if b.good else 'damaged: ' + b.problems[0]}")
    if args.restore is None:
        if not report.ok:
            good = report.newest_good()
            print(f"to restore {good.path.name}: kestrel doctor {root} --restore" if good
                  else "no good backup to restore", file=sys.stderr)
        return 0 if report.ok else 1
    if report.ok and not args.force:
        raise DoctorError("the project file is fine; add --force to replace it with a backup anyway")
    try:
        source, aside = doctor.restore(root, Path(args.restore) if args.restore else None)
    except doctor.RestoreError as exc:
        raise DoctorError(str(exc)) from None
    print(f"restored {source.name}; the replaced file is kept in {aside}")
    print("edits made after that backup are not in the restored project")
    return 0


DOCTOR_COMMANDS = {"doctor": cmd_doctor}
