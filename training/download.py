"""One file over HTTP(S) into place, with progress, cancel and torchvision's hash check.

torch.hub's ``download_url_to_file`` does the same check (the sha256 of the file must
begin with the hex digits in its name) but reports progress only as a tqdm bar on
stderr and cannot be cancelled; the window needs both. The file is written beside
its destination under a temporary name and renamed only when complete and checked,
so a cut connection, a cancel or a bad hash never leaves a damaged file in the cache.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """The file could not be fetched, was cut short or is not the expected one."""


class DownloadCancelled(DownloadError):
    pass


def download(url: str, dest: str | Path, *, hash_prefix: str | None = None,
             progress: Callable[[int, int | None], None] | None = None,
             cancelled: Callable[[], bool] | None = None, timeout_s: float = 30.0) -> Path:
    """Fetch ``url`` to ``dest``; ``progress(done_bytes, total_bytes or None)`` after
    each chunk; ``cancelled()`` true stops it (DownloadCancelled). Returns ``dest``."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    request = urllib.request.Request(url, headers={"User-Agent": "kestrel"})
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout_s) as r:
            total = int(r.headers.get("Content-Length") or 0) or None
            digest, done = hashlib.sha256(), 0
            while True:
                if cancelled is not None and cancelled():
                    raise DownloadCancelled(f"{url}: cancelled")
                chunk = r.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        if total is not None and done != total:
            raise DownloadError(f"{url}: the connection ended after {done} of {total} bytes")
        got = digest.hexdigest()
        if hash_prefix and not got.startswith(hash_prefix):
            raise DownloadError(f"{url}: sha256 {got[:len(hash_prefix)]}... does not match the "
                                f"{hash_prefix} in its name; the file is damaged or not the one "
                                "it claims to be (nothing was kept)")
        os.replace(tmp, dest)
        return dest
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: the server answered {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DownloadError(f"{url}: cannot connect ({exc.reason})") from None
    except (OSError, ValueError) as exc:   # a timeout, a full disk, a malformed URL
        raise DownloadError(f"{url}: {type(exc).__name__}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
