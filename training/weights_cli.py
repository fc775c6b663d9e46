"""``python -m training weights list | fetch | import``: what each template starts
from on this machine, fetching a file ahead of a run, installing one got by hand."""
from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO


def add_parser(sub) -> None:
    w = sub.add_parser("weights", help="pretrained weights: list, fetch, import")
    wsub = w.add_subparsers(dest="weights_command", required=True)
    wl = wsub.add_parser("list", help="each template's starting weights: present / "
                         "downloadable / missing, size, where cached")
    wl.add_argument("--json", action="store_true")
    add_policy_flags(wl)
    wf = wsub.add_parser("fetch", help="download a template's weights (or Enum.MEMBER) into "
                         "the cache, hash-checked")
    wf.add_argument("names", nargs="+", metavar="NAME",
                    help="a template (its default start), TEMPLATE:START, or Enum.MEMBER")
    add_policy_flags(wf, fetch=True)
    wi = wsub.add_parser("import", help="check a torchvision weights file, install it in "
                         "the hub cache")
    wi.add_argument("file")


def add_policy_flags(p: argparse.ArgumentParser, fetch: bool = False) -> None:
    if not fetch:
        p.add_argument("--allow-download", action="store_true",
                       help="let a missing file be downloaded (also KESTREL_ALLOW_DOWNLOAD=1)")
    p.add_argument("--mirror", metavar="URL", default=None,
                   help="fetch from this base URL instead of download.pytorch.org "
                   "(also KESTREL_WEIGHTS_MIRROR)")


def policy_from(args):
    from training.weights import Policy

    env = Policy.from_env()
    return Policy(bool(getattr(args, "allow_download", False)) or env.allow_download
                  or args.weights_command == "fetch", args.mirror or env.mirror)


def _refs(names: list[str]) -> list[str]:
    from training.choice import default_pretrained
    from training.templates import get_template
    from training.weights_catalog import FILES

    refs = []
    for name in names:
        if name in FILES:
            refs.append(name)
            continue
        template, _, start = name.partition(":")
        spec = get_template(template)   # KeyError names the known ones
        start = start or default_pretrained(spec)
        if start not in spec.start_weights:
            raise KeyError(f"{template} has no {start!r} start; it has "
                           f"{', '.join(spec.start_weights) or 'none'}")
        refs.append(spec.start_weights[start])
    return list(dict.fromkeys(refs))


def run(args, out: TextIO) -> int:
    from training.weights import describe_file, fetch, import_weights

    if args.weights_command == "import":
        dest = import_weights(args.file)
        out.write(json.dumps({"installed": str(dest), "weights": describe_file(dest.name)}) + "\n")
        return 0
    policy = policy_from(args)
    if args.weights_command == "list":
        from training.choice import weights_rows

        rows = weights_rows(policy)
        if args.json:
            out.write(json.dumps(rows) + "\n")
        else:
            _table(rows, out)
        return 0
    for ref in _refs(args.names):
        shown = [-1]

        def progress(done: int, total: int | None, ref=ref) -> None:
            pct = int(100 * done / total) if total else -1
            if pct // 10 != shown[0] // 10:
                shown[0] = pct
                print(f"{ref}: {done / 2**20:.1f} MB" + (f" ({pct}%)" if total else ""),
                      file=sys.stderr, flush=True)
        path = fetch(ref, policy, progress)
        out.write(json.dumps({"fetched": str(path), "weights": ref}) + "\n")
    return 0


def _table(rows: list[dict], out: TextIO) -> None:
    out.write(f"{'template':<38} {'start':<9} {'state':<13} {'MB':>6}  file / cache path\n")
    for r in rows:
        out.write(f"{r['template']:<38} {r['start']:<9} {r['state']:<13} "
                  f"{r['size_mb']:>6.1f}  {r['path']}\n")
    out.flush()
