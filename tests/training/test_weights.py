"""Pretrained weights: the catalogue, downloads from a loopback server (mirror,
progress, hash failure, errors), the offline fallback, ``weights list/fetch``."""
from __future__ import annotations

import json

import pytest

from tests.weights_server import WeightsServer, weights_file
from training import weights_catalog
from training.download import DownloadError
from training.weights import Policy, cache_dir, fetch, obtain_start, reporting, state

TEST_REF = "TestNet_Weights.V1"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty hub cache of this test's own; no download allowed from the environment."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.delenv("KESTREL_ALLOW_DOWNLOAD", raising=False)
    monkeypatch.delenv("KESTREL_WEIGHTS_MIRROR", raising=False)
    return cache_dir()


@pytest.fixture
def test_file(monkeypatch):
    """A generated file in the catalogue under TEST_REF: (name, content)."""
    name, data = weights_file("testnet")
    monkeypatch.setitem(weights_catalog.FILES, TEST_REF, (name, len(data) / 2**20))
    return name, data


def test_the_catalogue_matches_torchvision():
    from training.templates import list_templates

    for ref, (name, mb) in weights_catalog.FILES.items():
        member = weights_catalog.enum_member(ref)
        assert member.url == weights_catalog.DEFAULT_BASE_URL + name, ref
        assert member.meta["_file_size"] == mb, ref
    starts = [ref for spec in list_templates() for ref in spec.start_weights.values()]
    assert starts and set(starts) <= set(weights_catalog.FILES)


def test_download_from_a_mirror_with_progress(home, test_file):
    name, data = test_file
    seen = []
    with WeightsServer({f"mirror/{name}": data}) as server:
        policy = Policy(allow_download=True, mirror=server.base + "mirror")
        assert state(TEST_REF, policy) == "downloadable"
        assert state(TEST_REF, Policy()) == "missing"
        path = fetch(TEST_REF, policy, progress=lambda done, total: seen.append((done, total)))
    assert server.requests == [f"mirror/{name}"]      # from the mirror, by its torchvision name
    assert path == home / name and path.read_bytes() == data
    assert len(seen) > 1 and seen[-1] == (len(data), len(data))
    assert state(TEST_REF, Policy()) == "present"
    assert [p.name for p in home.iterdir()] == [name]  # no partial file left beside it


def test_a_file_failing_its_hash_is_not_kept(home, test_file):
    name, data = test_file
    damaged = bytearray(data)
    damaged[1234] ^= 0xFF
    with WeightsServer({name: bytes(damaged)}) as server:
        with pytest.raises(DownloadError, match="does not match"):
            fetch(TEST_REF, Policy(True, server.base))
    assert not home.exists() or list(home.iterdir()) == []


def test_download_errors_name_the_address(home, test_file):
    name, _data = test_file
    with WeightsServer({}) as server:
        with pytest.raises(DownloadError, match="404"):
            fetch(TEST_REF, Policy(True, server.base))
        closed = server.base
    with pytest.raises(DownloadError, match="cannot connect"):
        fetch(TEST_REF, Policy(True, closed))     # the server is gone: connection refused
    assert not home.exists() or list(home.iterdir()) == []


def test_a_cancelled_download_leaves_nothing(home, test_file):
    name, data = test_file
    from training.download import DownloadCancelled

    with WeightsServer({name: data}) as server:
        with pytest.raises(DownloadCancelled):
            fetch(TEST_REF, Policy(True, server.base), cancelled=lambda: True)
    assert not home.exists() or list(home.iterdir()) == []


def test_offline_the_start_falls_back_and_nothing_is_fetched(home):
    from training.detection.models import STARTS

    starts = STARTS["fasterrcnn_mobilenet_v3_large_fpn"]
    reports = []
    with WeightsServer({}) as server, reporting(reports.append):
        offline = Policy(allow_download=False, mirror=server.base)
        assert obtain_start(starts, "coco", offline) == ("none", None)
        home.mkdir(parents=True)
        (home / weights_catalog.file_of(starts["imagenet"])).write_bytes(b"x")
        start, member = obtain_start(starts, "coco", offline)
    assert server.requests == []                     # offline means no connection at all
    assert start == "imagenet" and str(member).endswith("MobileNet_V3_Large_Weights.IMAGENET1K_V1")
    states = [(r["state"], r.get("start")) for r in reports]
    assert states == [("missing", None), ("missing", None), ("start", "none"),
                      ("missing", None), ("start", "imagenet")]
    assert reports[-1]["warning"] and "coco weights are missing" in reports[-1]["message"]


def test_a_run_whose_download_fails_its_hash_starts_random(small_coco, home, tmp_path,
                                                           monkeypatch):
    """Downloads allowed, from a mirror that serves a damaged file: the run says so,
    keeps nothing, starts from random weights and finishes."""
    from tests.training.conftest import run_events

    name = weights_catalog.file_of("MobileNet_V2_Weights.IMAGENET1K_V1")
    with WeightsServer({name: b"not the MobileNetV2 weights" * 1000}) as server:
        monkeypatch.setenv("KESTREL_ALLOW_DOWNLOAD", "1")
        monkeypatch.setenv("KESTREL_WEIGHTS_MIRROR", server.base)
        rc, events = run_events(*small_coco, "fasterrcnn_mobilenet_v2", tmp_path / "run",
                                ["pretrained=imagenet"])
    assert rc == 0 and events[-1]["event"] == "finished"
    assert server.requests == [name]
    weights = [e for e in events if e["event"] == "weights"]
    assert weights[0]["state"] == "downloading" and server.base in weights[0]["message"]
    failed = next(e for e in weights if e["state"] == "failed")
    assert "does not match" in failed["message"] and failed["warning"]
    assert weights[-1]["state"] == "start" and weights[-1]["start"] == "none"
    assert next(e for e in events if e["event"] == "started")["start"] == "none"
    assert not (home / name).exists()


def test_weights_list_and_fetch_commands(home, test_file, capsys):
    from training.cli import main

    name, data = test_file
    assert main(["weights", "list", "--json"]) == 0
    with WeightsServer({name: data}) as server:
        assert main(["weights", "fetch", TEST_REF, "--mirror", server.base]) == 0
    assert main(["weights", "list", "--json", "--allow-download"]) == 0
    first, fetched, allowed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    row = next(r for r in first if r["template"] == "fasterrcnn_mobilenet_v2")
    assert (row["start"], row["state"], row["file"]) == ("imagenet", "missing",
                                                         "mobilenet_v2-b0353104.pth")
    assert row["size_mb"] == 13.555 and row["path"] == str(home / row["file"])
    assert fetched == {"fetched": str(home / name), "weights": TEST_REF}
    assert {r["state"] for r in allowed} == {"downloadable"}
    assert (home / name).read_bytes() == data


def test_cache_dir_never_imports_torch(monkeypatch, tmp_path):
    """The window asks for the cache folder while a worker thread may be importing
    torch: a torch half made (no torch.hub yet) is not touched, nothing is imported."""
    import sys
    import types

    monkeypatch.setitem(sys.modules, "torch", types.ModuleType("torch"))
    monkeypatch.delitem(sys.modules, "torch.hub", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "hub" / "checkpoints"
    assert "torch.hub" not in sys.modules
