"""Torture: random edits in the REAL window, SIGKILL at random moments, nothing lost.

A child process opens ``MainWindow`` (offscreen) on a demo project (images and a
clip) and makes random edits through real mouse and key events on the canvas:
draw (W + drag), move, resize (the corner handle), delete (Delete), class change
(hot keys 1-3), tag (Alt+1..4), undo (Ctrl+Z), redo (Ctrl+Shift+Z), video keyframes
(scrub, then draw or move a box on the frame), class rename, delete and add (the
classes panel's intents; the panel itself asks for names in a dialog). Before each
edit it logs what it is about to do; after the edit returns it logs an
acknowledgement with a digest of every label table, fsync'd. The parent kills it
with SIGKILL at a random moment, reopens the project and checks:

- ``PRAGMA integrity_check`` is ok;
- the labels equal the last acknowledged state, or that state plus the one edit in
  flight when the kill came (committed, not yet acknowledged): reversing that one
  step through the reloaded undo journal gives back the acknowledged state;
- the undo history reloads: the journal's steps are the acknowledged ones.

Any other outcome counts as lost. Run: ``python tests/benchmarks/bench_torture.py
[--edits 1000] [--kills 20] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
EDIT_KINDS = ("draw", "move", "resize", "delete", "class", "tag", "undo", "redo", "video",
              "rename_class", "delete_class")


def digest(conn: sqlite3.Connection) -> str:
    """Every label table, ids included (``updated_at`` left out: it is a clock)."""
    h = hashlib.sha1()
    for sql in ("SELECT id, media_id, frame, class_id, round(x1, 6), round(y1, 6), round(x2, 6), "
                "round(y2, 6), track_id, source FROM boxes WHERE source != 'predicted' ORDER BY id",
                "SELECT id, name, color, position, hotkey FROM classes ORDER BY id",
                "SELECT id, name FROM tags ORDER BY id",
                "SELECT media_id, tag_id FROM media_tags ORDER BY 1, 2",
                "SELECT media_id, track_id, frame FROM track_events ORDER BY 1, 2, 3"):
        h.update(repr([tuple(r) for r in conn.execute(sql)]).encode())
    return h.hexdigest()


def history(conn: sqlite3.Connection) -> list[list[int]]:
    return [[r[0], r[1]] for r in conn.execute("SELECT id, undone FROM undo_steps ORDER BY id")]


# -- the child: the real window ----------------------------------------------------------
def child(folder: str, log_path: str, seed: int) -> None:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from app.shell.window import MainWindow
    from app.store.project import Project
    from tests.widgets.conftest import click, drag

    w = MainWindow(Project.open(folder))
    w.resize(1200, 800)
    w.show()
    QTest.qWaitForWindowExposed(w)
    w.restore_last_media()

    def wait_shown(media_id=None, frame=None):
        deadline = time.time() + 10
        while time.time() < deadline and (w.annotator.media_id is None or (
                media_id is not None and w.annotator.media_id != media_id) or (
                frame is not None and w.annotator.frame != frame)):
            QTest.qWait(5)

    wait_shown()
    rng = random.Random(seed)
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    p, vp = w.project, w.canvas.viewport()
    session_start = max([s for s, _ in history(p.conn)] or [0])

    def log(record: dict, sync: bool) -> None:
        os.write(fd, (json.dumps(record) + "\n").encode())
        if sync:
            os.fsync(fd)

    def at(x, y):
        return QPointF(w.canvas.viewport_point(x, y))

    def key(k, mods=Qt.NoModifier):
        w.canvas.setFocus()
        QTest.keyClick(w.windowHandle(), k, mods)

    def settle():
        for _ in range(3):
            app.processEvents()

    def labels():
        return [b for b in p.boxes.labels(w.media_id, w.annotator.frame)]

    def size():
        m = p.media.get(w.media_id)
        return m.width, m.height

    def point():
        W, H = size()
        return rng.uniform(5, W - 5), rng.uniform(5, H - 5)

    def select(box):
        click(vp, at((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2))

    def go_image():
        if p.media.get(w.media_id).is_video or rng.random() < 0.3:
            image = rng.choice(p.media.ids("m.kind = 'image'"))
            w.open_media(image)
            wait_shown(image)

    def go_video():
        video = p.media.ids("m.kind = 'video'")[0]
        if w.media_id != video:
            w.open_media(video)
            wait_shown(video)
        frame = rng.randrange(w.video.player.frame_count)
        w.video.player.request(frame)
        wait_shown(video, frame)

    def act(kind: str) -> None:
        if kind in ("undo", "redo"):
            key(Qt.Key_Z, Qt.ControlModifier | (Qt.ShiftModifier if kind == "redo" else Qt.NoModifier))
            return
        if kind == "rename_class":
            c = rng.choice(p.classes.all())
            w.doc.rename_class(c.id, f"class{rng.randrange(10**6)}")
            return
        if kind == "delete_class":
            classes = p.classes.all()
            if len(classes) > 2:
                w.doc.delete_class(rng.choice(classes).id)
            else:
                w.doc.add_class(f"class{rng.randrange(10**6)}")
            return
        if kind == "video":
            go_video()
        elif rng.random() < 0.15:
            go_image()
        if kind == "draw" or (kind == "video" and rng.random() < 0.5) or not labels():
            key(Qt.Key_W)
            (x1, y1), (x2, y2) = point(), point()
            drag(vp, at(x1, y1), at(x2, y2))
            return
        box = rng.choice(labels())
        if kind in ("move", "video"):
            cx, cy = (box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2
            drag(vp, at(cx, cy), at(cx + rng.uniform(-30, 30), cy + rng.uniform(-30, 30)))
        elif kind == "resize":
            select(box)
            drag(vp, at(box.x2, box.y2), at(box.x2 + rng.uniform(-15, 25), box.y2 + rng.uniform(-15, 25)))
        elif kind == "delete":
            select(box)
            key(Qt.Key_Delete)
        elif kind == "class":
            select(box)
            key(rng.choice([Qt.Key_1, Qt.Key_2, Qt.Key_3]))
        elif kind == "tag":
            key(rng.choice([Qt.Key_1, Qt.Key_2, Qt.Key_3, Qt.Key_4]), Qt.AltModifier)

    log({"ready": True, "session_start": session_start}, sync=True)
    weights = [14, 12, 8, 8, 8, 8, 10, 6, 14, 3, 3]
    seq = 0
    while True:
        kind = rng.choices(EDIT_KINDS, weights)[0]
        stack = w.doc.undo_stack
        step = None
        if kind == "undo" and stack.canUndo():
            step = stack.command(stack.index() - 1).step_id
        elif kind == "redo" and stack.canRedo():
            step = stack.command(stack.index()).step_id
        log({"intent": seq, "kind": kind, "step": step}, sync=False)
        act(kind)
        settle()
        if w.doc.pending():
            raise SystemExit("an edit was queued: nothing else writes here")
        log({"ack": seq, "kind": kind, "digest": digest(p.conn), "history": history(p.conn)},
            sync=True)
        seq += 1


# -- the parent: kill, reopen, check -------------------------------------------------------
def read_log(path: Path) -> list[dict]:
    lines = path.read_bytes().split(b"\n")
    return [json.loads(line) for line in lines[:-1] if line]     # a torn last line is no ack


def check(folder: Path, records: list[dict], base: dict) -> tuple[str, int]:
    """(verdict, steps reloaded) for the project after a kill."""
    from app.store.journal import Journal
    from app.store.project import Project

    acks = [r for r in records if "ack" in r]
    last = acks[-1] if acks else base
    intents = [r for r in records if "intent" in r]
    in_flight = intents[-1] if intents and (not acks or intents[-1]["intent"] > acks[-1]["ack"]) else None
    with Project.open(folder, check=True) as p:
        if p.conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            return "integrity", 0
        now, steps = digest(p.conn), history(p.conn)
        reloaded = len(Journal(p).history())
    if now == last["digest"] and steps == last["history"]:
        return "ok", reloaded
    if in_flight is None:
        return "lost", reloaded
    # The edit in flight committed before its acknowledgement: undo (or redo) that one
    # step on a copy, through the journal, and the acknowledged state must come back.
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(folder / "kestrel.db", Path(tmp) / "kestrel.db")
        for suffix in ("-wal",):
            if (folder / f"kestrel.db{suffix}").exists():
                shutil.copy(folder / f"kestrel.db{suffix}", Path(tmp) / f"kestrel.db{suffix}")
        with Project.open(tmp) as p:
            journal = Journal(p)
            kind, step = in_flight["kind"], in_flight["step"]
            try:
                if kind == "redo" and step is not None:
                    journal.undo(step)
                elif kind == "undo" and step is not None:
                    journal.redo(step)
                else:
                    newest = max(s for s, _ in history(p.conn))
                    journal.undo(newest)
                    p.conn.execute("DELETE FROM undo_steps WHERE id = ?", (newest,))
            except Exception as exc:
                return f"lost ({exc})", reloaded
            same = digest(p.conn) == last["digest"]
            now_steps, acked = history(p.conn), last["history"]
            if kind not in ("undo", "redo"):   # a new edit drops the redo branch: compare done steps
                now_steps, acked = [s for s in now_steps if not s[1]], [s for s in acked if not s[1]]
            tail = now_steps[-50:] == acked[-50:]
    return ("ok (in flight, committed)" if same and tail else "lost"), reloaded


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edits", type=int, default=1000)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sabotage", action="store_true", help="delete a box after the first kill: "
                    "the check must report it lost")
    ap.add_argument("--child", nargs=3, metavar=("FOLDER", "LOG", "SEED"))
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    from app.shell.demo import make_demo

    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="kestrel-torture-"))
    folder = tmp / "project"
    make_demo(folder, n_images=12, video=True).close()
    conn = sqlite3.connect(folder / "kestrel.db")
    base = {"digest": digest(conn), "history": history(conn)}
    conn.close()
    totals = dict(kills=0, actions=0, edits=0, lost=0, in_flight=0, cross_kill_undos=0)
    kinds: dict[str, int] = {}
    started = time.time()
    while totals["kills"] < args.kills or totals["edits"] < args.edits:
        log = tmp / f"life{totals['kills']:03d}.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
        proc = subprocess.Popen([sys.executable, __file__, "--child", str(folder), str(log),
                                 str(rng.randrange(10**9))], env=env, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while not (log.exists() and log.read_bytes().count(b"\n")) and time.time() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"the window died: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.05)
        time.sleep(rng.uniform(0.3, 3.0))                 # a random moment
        if proc.poll() is not None:
            raise SystemExit(f"the window stopped by itself: {proc.stderr.read().decode()[-2000:]}")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        totals["kills"] += 1
        if args.sabotage and totals["kills"] == 1:     # prove the check finds a loss
            conn = sqlite3.connect(folder / "kestrel.db")
            conn.execute("DELETE FROM boxes WHERE id = (SELECT MAX(id) FROM boxes)")
            conn.commit()
            conn.close()
        records = read_log(log)
        ready = records[0]
        acks = [r for r in records if "ack" in r]
        verdict, reloaded = check(folder, records, base)
        previous = base["digest"]
        for a in acks:
            totals["actions"] += 1
            totals["edits"] += a["digest"] != previous
            if a["digest"] != previous:
                kinds[a["kind"]] = kinds.get(a["kind"], 0) + 1
            previous = a["digest"]
        totals["cross_kill_undos"] += sum(1 for r in records if r.get("kind") == "undo" and "intent" in r
                                          and r["step"] is not None and r["step"] <= ready["session_start"])
        if verdict.startswith("lost") or verdict == "integrity":
            totals["lost"] += 1
        totals["in_flight"] += verdict == "ok (in flight, committed)"
        print(f"kill {totals['kills']:3d}: {len(acks):3d} acknowledged, {verdict}, "
              f"{reloaded} undo steps reloaded", flush=True)
        conn = sqlite3.connect(folder / "kestrel.db")
        base = {"digest": digest(conn), "history": history(conn)}
        conn.close()
    took = time.time() - started
    print(json.dumps(totals))
    print("edits by kind:", json.dumps(dict(sorted(kinds.items()))))
    print(f"{totals['edits']} edits (label state changed) in {totals['actions']} acknowledged "
          f"actions over {totals['kills']} kills in {took:.0f} s; lost = {totals['lost']}; "
          f"edits in flight found committed = {totals['in_flight']}; undos of steps made "
          f"before a kill = {totals['cross_kill_undos']}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if totals["lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
