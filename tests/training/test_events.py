import io
import json

import pytest

from training.events import SCHEMA, Emitter, EventError, is_terminal, parse_event


def test_emit_and_parse_round_trip():
    out = io.StringIO()
    em = Emitter(out)
    em.emit("checkpoint", epoch=1, kind="last", path="/x/last.pt")
    em.emit("failed", message="boom", traceback="tb", epoch=None)
    lines = out.getvalue().splitlines()
    first = parse_event(lines[0])
    assert first["schema"] == SCHEMA and first["kind"] == "last" and first["event"] == "checkpoint"
    assert is_terminal(parse_event(lines[1].encode()))


def test_non_finite_numbers_become_null():
    out = io.StringIO()
    Emitter(out).emit("progress", epoch=0, step=1, steps=2, loss=float("nan"),
                      losses={"a": float("inf")}, lr=0.1, images_per_s=1.0, eta_s=3.0)
    ev = json.loads(out.getvalue())
    assert ev["loss"] is None and ev["losses"]["a"] is None


@pytest.mark.parametrize("line", ["not json", "[1]", '{"event": "progress", "schema": 1}',
                                  '{"event": "started", "schema": 99}',
                                  '{"event": "nope", "schema": 1}'])
def test_bad_lines_are_rejected(line):
    with pytest.raises(EventError):
        parse_event(line)


def test_emitter_refuses_incomplete_events():
    with pytest.raises(EventError, match="lacks"):
        Emitter(io.StringIO()).emit("finished", epoch=1)
