"""A loopback HTTP server for weights downloads in tests: it serves generated files
from memory on 127.0.0.1 and records every path asked for. Nothing leaves the
machine."""

from __future__ import annotations

import hashlib
import http.server
import threading


def weights_file(stem: str, size: int = 300_000, seed: int = 0) -> tuple[str, bytes]:
    """(torchvision-style name ``<stem>-<sha256 prefix>.pth``, generated content)."""
    import random

    data = random.Random(seed).randbytes(size)
    return f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}.pth", data


class WeightsServer:
    """``files``: URL path (without the leading /) -> bytes. ``base`` is the mirror
    URL, ``requests`` the paths asked for, in order."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.requests = dict(files), []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):                      # noqa: N802 (http.server's name)
                path = self.path.lstrip("/")
                server.requests.append(path)
                data = server.files.get(path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):          # keep the test output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "WeightsServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
