"""The line protocol of Kestrel's Ray jobs (Ray-free): events, files sent in parts
and checked, replays that change nothing, names that cannot escape the run folder,
and the driver holding the terminal event back until the checkpoints are out."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from training.cluster import wire
from training.cluster.job import Printer
from training.events import make_event


def test_parse_tells_events_protocol_lines_and_log_apart():
    event = {**make_event("progress", epoch=0, step=1, steps=2, loss=1.0, losses={}, lr=0.1,
                          images_per_s=3.0, eta_s=1.0), "seq": 4}
    assert wire.parse(json.dumps(event)) == ("event", event)
    assert wire.parse('{"kestrel": "progress", "done": 1, "total": 2}')[0] == "progress"
    assert wire.parse("(RayTrainWorker pid=1) loading…") == ("log", "(RayTrainWorker pid=1) loading…")
    assert wire.parse('{"not": "ours"}')[0] == "log"
    assert wire.parse("{broken")[0] == "log"


def test_files_arrive_in_parts_are_checked_and_replays_are_harmless(tmp_path, monkeypatch):
    monkeypatch.setattr(wire, "CHUNK", 1000)
    data = bytes(range(256)) * 13                      # 3,328 bytes: four parts
    lines = list(wire.file_lines("last.pt", data))
    assert len(lines) == 4
    files = wire.FileAssembler(tmp_path)
    done = [files.feed(json.loads(line)) for line in lines]
    assert done[:3] == [None] * 3 and done[3] == tmp_path / "last.pt"
    assert (tmp_path / "last.pt").read_bytes() == data and not (tmp_path / "last.pt.part").exists()
    before = (tmp_path / "last.pt").stat().st_mtime_ns
    for line in lines:                                 # the log replayed after a reconnection
        files.feed(json.loads(line))
    assert (tmp_path / "last.pt").stat().st_mtime_ns == before
    # a newer file of the same name replaces it only once whole and checked
    newer = b"x" * 2500
    parts = [json.loads(line) for line in wire.file_lines("last.pt", newer)]
    files.feed(parts[0])
    assert (tmp_path / "last.pt").read_bytes() == data
    for part in parts[1:]:
        files.feed(part)
    assert (tmp_path / "last.pt").read_bytes() == newer


def test_a_corrupted_file_or_an_escaping_name_is_refused(tmp_path):
    files = wire.FileAssembler(tmp_path)
    part = json.loads(next(wire.file_lines("best.pt", b"payload")))
    with pytest.raises(ValueError, match="checksum"):
        files.feed({**part, "sha256": hashlib.sha256(b"other").hexdigest()})
    assert not (tmp_path / "best.pt").exists() and not (tmp_path / "best.pt.part").exists()
    for name in ("../evil.pt", "/etc/passwd", "..", "sub/x.pt"):
        with pytest.raises(ValueError, match="refusing"):
            files.feed({**part, "name": name})


def test_the_driver_numbers_events_and_holds_the_terminal_one_back():
    out = io.StringIO()
    printer = Printer(out)
    printer.event(make_event("checkpoint", epoch=1, kind="last", path="x"))
    printer.event(make_event("finished", epoch=1, best_map=None, best_path=None, last_path="x"))
    printer.line("FILE")
    assert printer.finish() == 0
    lines = out.getvalue().splitlines()
    assert [json.loads(lines[0])["seq"], lines[1], json.loads(lines[2])["seq"]] == [0, "FILE", 1]
    assert json.loads(lines[2])["event"] == "finished"
    failed = Printer(io.StringIO())
    failed.event(make_event("failed", message="boom", traceback=""))
    assert failed.finish() == 1 and Printer(io.StringIO()).finish() == 1
