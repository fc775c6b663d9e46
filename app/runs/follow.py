"""Following one trainer process to its end — the same code for the window (under
qasync) and for ``kestrel train`` (under ``asyncio.run``).

Every JSON event is recorded in the project's run record (and ``events.jsonl``) as
it arrives, the trainer's stderr goes to ``trainer.log``, and a child that ends
without a terminal event (killed, out of memory, a bad command line) marks its run
failed with the end of its log. Cancel goes through ``TrainerProcess.cancel``: an
interrupt the trainer answers by saving a checkpoint, then SIGTERM and SIGKILL if
it does not stop in time.
"""

from __future__ import annotations

from typing import Callable

from app.runs import records
from app.runs.lock import RunLock
from app.runs.process import TrainerProcess


async def follow_run(project, run_id: int, argv: list[str], env: dict[str, str], *,
                     lock: RunLock | None = None, cancel_grace_s: float = 20.0,
                     on_event: Callable[[dict], None] | None = None,
                     on_log: Callable[[list[str]], None] | None = None,
                     on_start: Callable[[TrainerProcess], None] | None = None,
                     on_record_error: Callable[[str], None] | None = None) -> str:
    """Run the trainer to its end; returns the run's final status. ``lock`` (this
    process follows the run) is released when it has ended. ``on_start`` gets the
    process (to cancel it)."""
    run_dir = project.resolve(project.runs.get(run_id).run_dir)

    def event(e: dict) -> None:
        try:
            records.record_event(project, run_id, e)
        except Exception as exc:  # a full disk must not stop us reading the child
            if on_record_error is not None:
                on_record_error(f"(could not record {e.get('event')}: {exc})")
        if on_event is not None:
            on_event(e)

    with open(run_dir / records.LOG_FILE, "a", encoding="utf-8") as log:
        def lines(batch: list[str]) -> None:
            log.write("\n".join(batch) + "\n")
            log.flush()
            if on_log is not None:
                on_log(batch)
        process = TrainerProcess(argv, env, cancel_grace_s=cancel_grace_s, on_event=event,
                                 on_log=lines)
        if on_start is not None:
            on_start(process)
        try:
            code = await process.run()
            if process.terminal is None:
                records.mark_crashed(project, run_id, code, "\n".join(process.tail),
                                     cancelled=process.cancelling)
        except Exception as exc:  # reading failed: the run is lost, the follower is not
            records.mark_crashed(project, run_id, -1, f"{type(exc).__name__}: {exc}")
        finally:
            if lock is not None:
                lock.release()
    return project.runs.get(run_id).status
