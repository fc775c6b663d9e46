"""Where a run computes, and what a Ray cluster offers, found through its Jobs API.

An address is ``http://HOST:8265`` (the dashboard, which serves the Jobs API) or
``ray://HOST:10001`` (the Ray Client port, from which Ray finds the dashboard); a bare
``HOST:PORT`` means http. Nothing here imports Ray until a cluster is actually asked.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field

INSTALL_HINT = ('Ray is not installed. Install the cluster extra: pip install -e ".[cluster]" '
                '(or pip install "ray[default,train,data]"), then restart Kestrel.')
LOCAL = "local"
_RESOLVED: dict[str, str] = {}   # ray://… → the dashboard's http address it led to


class ClusterError(RuntimeError):
    """A cluster that cannot be used (not reachable, no Ray, a refused job): one message."""


def ray_installed() -> bool:
    return importlib.util.find_spec("ray") is not None


def normalise(address: str) -> str:
    """``ray://…`` and ``http(s)://…`` kept, ``HOST:PORT`` becomes http; refuses the rest."""
    text = (address or "").strip().rstrip("/")
    if not text:
        raise ClusterError("no cluster address given (ray://HOST:10001 or http://HOST:8265)")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "http", text
    if scheme not in ("http", "https", "ray") or not rest or " " in rest:
        raise ClusterError(f"{address!r} is not a Ray address: use ray://HOST:10001 or "
                           "http://HOST:8265")
    return f"{scheme}://{rest}"


def job_client(address: str):
    """A Ray ``JobSubmissionClient``; ClusterError when Ray is missing or the cluster
    does not answer."""
    if not ray_installed():
        raise ClusterError(INSTALL_HINT)
    address = normalise(address)
    for var in ("RAY_API_SERVER_ADDRESS", "RAY_ADDRESS"):   # Ray lets these win over ours
        value = os.environ.get(var)
        if value and normalise(value) != address:
            raise ClusterError(f"{var}={value} is set in the environment, and Ray would use "
                               f"it instead of {address}: unset it, or use that address")
    import logging

    from ray.job_submission import JobSubmissionClient

    # "uploading package…", "websocket closed": Ray's chatter, not the person's business
    for name in ("ray.dashboard.modules.dashboard_sdk", "ray.dashboard.modules.job.sdk",
                 "ray._private.runtime_env.packaging"):
        logging.getLogger(name).setLevel(logging.ERROR)

    # A ray:// address goes through the head's Ray Client proxy, which starts a server
    # process per connection; on a busy head that start can time out once: try again.
    attempts = 2 if address.startswith("ray://") and address not in _RESOLVED else 1
    for attempt in range(attempts):
        try:
            client = JobSubmissionClient(_RESOLVED.get(address, address))
            if address.startswith("ray://"):   # found through a Ray Client connection: once
                _RESOLVED[address] = client.get_address()
            return client
        except Exception as exc:
            if attempt + 1 < attempts and "client server failed" in str(exc):
                continue
            raise ClusterError(f"cannot reach the Ray cluster at {address}: "
                               f"{_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[-1] if text else type(exc).__name__)[:300]


@dataclass
class ClusterInfo:
    address: str
    dashboard: str           # the http address the Jobs API answers on
    nodes: int = 0
    cpus: float = 0.0
    gpus: float = 0.0
    gpu_types: list[str] = field(default_factory=list)
    ray_version: str = ""

    def text(self) -> str:
        gpus = f"{self.gpus:g} GPU{'s' if self.gpus != 1 else ''}"
        if self.gpu_types:
            gpus += f" ({', '.join(self.gpu_types)})"
        return (f"{self.nodes} node{'s' if self.nodes != 1 else ''} · {self.cpus:g} CPUs · "
                f"{gpus} — Ray {self.ray_version} at {self.address}")

    def to_json(self) -> dict:
        return {"address": self.address, "dashboard": self.dashboard, "nodes": self.nodes,
                "cpus": self.cpus, "gpus": self.gpus, "gpu_types": self.gpu_types,
                "ray_version": self.ray_version}


def describe(address: str) -> ClusterInfo:
    """Check the connection and sum the alive nodes' resources (blocking: a second or
    two on a remote cluster; call it off the GUI thread)."""
    client = job_client(address)
    dashboard = client.get_address()
    try:
        from ray.util.state import list_nodes

        nodes = [n for n in list_nodes(address=dashboard, raise_on_missing_output=False)
                 if n.state == "ALIVE"]
    except Exception as exc:
        raise ClusterError(f"the Ray cluster at {address} did not list its nodes: "
                           f"{_reason(exc)}") from None
    info = ClusterInfo(normalise(address), dashboard, nodes=len(nodes))
    types = set()
    for node in nodes:
        res = node.resources_total or {}
        info.cpus += float(res.get("CPU", 0))
        info.gpus += float(res.get("GPU", 0))
        types.update(k.split(":", 1)[1] for k in res if k.startswith("accelerator_type:"))
    info.gpu_types = sorted(types)
    info.ray_version = _cluster_version(client)
    return info


def _cluster_version(client) -> str:
    try:
        import requests

        r = requests.get(client.get_address() + "/api/version", timeout=10)
        return str(r.json().get("ray_version", ""))
    except Exception:
        return ""
