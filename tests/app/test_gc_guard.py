"""The cyclic garbage collector runs on the GUI thread only (app.shell.gc_guard)."""
import gc
import threading

from app.shell.gc_guard import MainThreadCollector


class _Cycle:
    def __init__(self):
        self.me = self


def test_cycles_are_collected_by_the_gui_threads_timer_not_by_a_worker(qtbot):
    collector = MainThreadCollector(interval_ms=20)
    try:
        assert not gc.isenabled()
        collected_on: list[str] = []
        gc.callbacks.append(lambda phase, _info: phase == "stop"
                            and collected_on.append(threading.current_thread().name))

        def allocate():          # a worker allocating far past the gen-0 threshold
            for _ in range(20 * collector.threshold[0]):
                _Cycle()

        worker = threading.Thread(target=allocate, name="worker")
        worker.start()
        worker.join()
        assert "worker" not in collected_on          # nothing collected there
        qtbot.waitUntil(lambda: gc.get_count()[0] < collector.threshold[0], timeout=2000)
        assert collected_on and set(collected_on) == {threading.main_thread().name}
    finally:
        gc.callbacks.pop()
        collector.stop()
        gc.disable()     # the test session keeps automatic collection off (tests/conftest.py)
