"""``kestrel search --where … --store …`` and ``kestrel embed`` with a vector store."""
from __future__ import annotations

import json
import socket

import pytest

from app.search import filters
from app.shell.cli import main
from tests.search.helpers import make_search_project, reference


@pytest.fixture
def project(tmp_path):
    p, run_id = make_search_project(tmp_path)
    root = str(p.root)
    yield p, root, str(run_id)
    p.close()


def search(capsys, root, run, *argv) -> dict:
    assert main(["search", root, "--run", run, *argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_where_filters_and_the_stores_agree(project, capsys):
    p, root, run = project
    where = ["--where", "tag=bees", "--where", "split!=train", "--where", "labelled"]
    embedded = search(capsys, root, run, "3", "-k", "5", *where)
    assert embedded["store"] == "embedded" and embedded["hits"]
    query = p.embeddings.load(int(run), ["image"])[1][2]          # media 3's vector
    want = reference(p, int(run), query, 5,
                     filters.parse(["tag=bees", "split!=train", "labelled", "kind=image,frame"], p))
    assert [(h["kind"], h["media_id"]) for h in embedded["hits"]] == [
        (k.kind, k.media_id) for k, _ in want]
    # the same through Qdrant's local mode; the choice is saved in the project
    qdrant = search(capsys, root, run, "3", "-k", "5", *where, "--store", "qdrant://local")
    assert qdrant["store"] == "qdrant://local"
    assert [h["media_id"] for h in qdrant["hits"]] == [h["media_id"] for h in embedded["hits"]]
    assert [h["similarity"] for h in qdrant["hits"]] == pytest.approx(
        [h["similarity"] for h in embedded["hits"]], abs=1e-4)
    assert p.settings.get("search.store") == "qdrant://local"
    boxes = search(capsys, root, run, "box:1", "-k", "3", "--where", "class=dog")
    assert boxes["store"] == "qdrant://local"
    assert all(h["kind"] == "box" for h in boxes["hits"]) and len(boxes["hits"]) == 3
    dogs = {b.id for m in p.media.ids() for b in p.boxes.of(m)
            if b.class_id == p.classes.by_name("dog").id}
    assert {h["box_id"] for h in boxes["hits"]} <= dogs
    # back to the default; plain text output names what matched nothing
    assert main(["search", root, "--run", run, "3", "--store", "embedded",
                 "--where", "media=video", "--where", "kind=image"]) == 0
    assert "no item matches media=video, kind=image" in capsys.readouterr().out
    assert p.settings.get("search.store") is None


def test_embed_sends_changes_to_the_chosen_store(project, capsys):
    p, root, run = project
    assert main(["embed", root, "--run", run, "--quiet", "--store", "qdrant://local"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("embedded 0, already there")
    assert "Qdrant (local folder" in out and ": 43 items" in out


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("argv, message", [
    (["--where", "tag=moths"], "no tag named 'moths'"),
    (["--where", "split=holdout"], "split is one of"),
    (["--store", "ftp://example"], "unknown vector store 'ftp://example'"),
    (["--store", "qdrant://127.0.0.1:{port}"], "cannot reach the Qdrant server at "
                                               "http://127.0.0.1:{port}"),
])
def test_user_errors_exit_2(project, capsys, argv, message):
    p, root, run = project
    port = closed_port()
    argv = [a.format(port=port) for a in argv]
    assert main(["search", root, "--run", run, "3", *argv]) == 2
    assert message.format(port=port) in capsys.readouterr().err
    assert p.settings.get("search.store") is None        # a store that fails is not saved
