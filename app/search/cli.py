"""``kestrel embed`` / ``kestrel search`` / ``kestrel classify``: embeddings of a
project with a trained embedder run, nearest neighbours of an image, a media item or
a box, and tag suggestions for untagged images from a classifier on top.

Machine-readable answers (``--json``) go to stdout; progress goes to stderr.
"""

from __future__ import annotations

import json
import sys


class SearchError(ValueError):
    """A user error, reported by ``kestrel`` as one line with exit code 2."""


def add_search_parsers(sub) -> None:
    s = sub.add_parser("embed", help="embed every image, sampled frame and box with an embedder run")
    s.add_argument("project")
    s.add_argument("--run", type=int, required=True, help="embedder run id (see `kestrel runs`)")
    s.add_argument("--kinds", default="image,frame,box", help="comma list of image, frame, box")
    s.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps")
    s.add_argument("--batch-size", type=int, default=32)
    s.add_argument("--quiet", action="store_true", help="no progress display")
    s.add_argument("--compute", metavar="ADDRESS", default=None,
                   help="embed on a Ray cluster (ray://HOST:10001 or http://HOST:8265) with Ray Data")
    s.add_argument("--workers", type=int, default=2, help="with --compute: Ray workers")
    _store_options(s)

    s = sub.add_parser("search", help="nearest neighbours of an image file, a media id or box:ID")
    s.add_argument("project")
    s.add_argument("query", metavar="QUERY", help="image file, media id, or box:ID")
    s.add_argument("--run", type=int, required=True, help="embedder run id")
    s.add_argument("-k", type=int, default=10, help="how many neighbours")
    s.add_argument("--kinds", default=None, help="search among: image, frame, box "
                   "(default: boxes for a box query, pictures otherwise)")
    s.add_argument("--where", action="append", default=[], metavar="FILTER",
                   help="only items matching: tag=NAME, class=NAME, split=train|val|test|none, "
                        "media=image|video, kind=image|frame|box, labelled, unlabelled; "
                        "NAME!=… excludes; repeat to combine (all must hold)")
    s.add_argument("--device", default="cpu")
    s.add_argument("--json", action="store_true")
    _store_options(s)

    s = sub.add_parser("classify", help="suggest tags for untagged images (classifier on embeddings)")
    s.add_argument("project")
    s.add_argument("--run", type=int, required=True, help="embedder run id")
    s.add_argument("--threshold", type=float, default=0.5, help="lowest confidence shown")
    s.add_argument("--json", action="store_true")


def _store_options(s) -> None:
    s.add_argument("--store", metavar="SPEC",
                   help="vector store, saved in the project's settings: embedded (default), "
                        "qdrant://local (a folder in the project), qdrant://HOST[:PORT] or "
                        "qdrant+https://HOST[:PORT] (a Qdrant server)")
    s.add_argument("--api-key", help="Qdrant server API key (default: $QDRANT_API_KEY; "
                                     "never saved)")


def _store(project, args):
    """The store the project uses (``--store`` changes and saves the choice), synced."""
    from app.search.stores import StoreError, current_spec, parse_spec, save_spec
    from app.search.sync import open_synced

    try:
        spec = parse_spec(args.store) if args.store else current_spec(project)
        store = open_synced(project, args.run, spec, args.api_key)
    except StoreError as exc:
        raise SearchError(str(exc)) from None
    if args.store:          # saved once it works
        save_spec(project, spec.text)
    return spec, store


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = set(kinds) - {"image", "frame", "box"}
    if bad or not kinds:
        raise SearchError(f"--kinds: expected image, frame, box; got {text!r}")
    return kinds


def _open(path: str, run_id: int):
    from app.search.embeddings import EmbeddingError, run_checkpoint
    from app.store.project import Project

    project = Project.open(path)
    try:
        run_checkpoint(project, run_id)
    except (KeyError, EmbeddingError) as exc:
        project.close()
        raise SearchError(str(exc).strip("'\"")) from None
    return project


def cmd_embed(args) -> int:
    from app.search.embeddings import embed_project

    kinds = _kinds(args.kinds)
    with _open(args.project, args.run) as project:
        def progress(done: int, total: int) -> None:
            if not args.quiet:
                print(f"\rembedded {done}/{total}", end="", file=sys.stderr, flush=True)
        try:
            if args.compute:
                counts = _embed_on_cluster(project, args, kinds, progress)
            else:
                counts = embed_project(project, args.run, kinds=kinds, batch_size=args.batch_size,
                                       device=args.device, progress=progress)
        except KeyboardInterrupt:
            print("\ninterrupted; what was embedded is kept", file=sys.stderr)
            return 130
        if not args.quiet and counts["embedded"]:
            print(file=sys.stderr)
        line = (f"embedded {counts['embedded']}, already there {counts['kept']}, "
                f"removed {counts['removed']}, unreadable {counts['failed']}")
        if args.store or _uses_qdrant(project):      # send the changes to the vector store now
            _spec, store = _store(project, args)
            line += f"; {store.description}: {store.count()} items"
            store.close()
    print(line)
    return 0


def _embed_on_cluster(project, args, kinds, progress) -> dict:
    from app.search.cluster import embed_on_cluster
    from app.cluster.connect import ClusterError

    try:
        return embed_on_cluster(project, args.run, args.compute, kinds=kinds,
                                workers=args.workers, batch_size=args.batch_size,
                                progress=progress)
    except ClusterError as exc:
        raise SearchError(str(exc)) from None


def _uses_qdrant(project) -> bool:
    from app.search.stores import current_spec

    return current_spec(project).kind != "embedded"


def _describe(project, hit) -> dict:
    out = hit.to_json()
    try:
        out["name"] = project.media.get(hit.key.media_id).name
    except KeyError:
        out["name"] = None
    return out


def cmd_search(args) -> int:
    from app.search import filters
    from app.search.embeddings import load_embedder
    from app.search.index import parse_query, query_vector

    with _open(args.project, args.run) as project:
        try:
            query = parse_query(args.query)
            where = filters.parse(args.where, project)
            vector, key = query_vector(project, args.run, query,
                                       lambda: load_embedder(project, args.run, args.device))
        except (KeyError, LookupError) as exc:
            raise SearchError(str(exc).strip("'\"")) from None
        kinds = _kinds(args.kinds) if args.kinds else (
            ("box",) if query[0] == "box" else ("image", "frame"))
        spec, store = _store(project, args)
        try:
            if not store.count():
                raise SearchError(f"nothing embedded with run {args.run} yet; "
                                  f"run `kestrel embed {args.project} --run {args.run}`")
            found = store.search(vector, args.k, where.also(filters.kinds(kinds)))
        finally:
            store.close()
        hits = [_describe(project, h) for h in found]
    if args.json:
        print(json.dumps({"query": args.query, "run": args.run, "store": spec.text,
                          "where": args.where, "hits": hits}))
        return 0
    if not hits:
        print(f"no item matches {where.text}" if where else "no neighbours")
    for i, h in enumerate(hits, 1):
        inside = f"box:{h['box_id']} in " if h["box_id"] else ""
        frame = f" frame {h['frame']}" if h["kind"] != "image" else ""
        print(f"{i:3d}  {h['similarity']:.4f}  {inside}media {h['media_id']} {h['name']}{frame}")
    return 0


def cmd_classify(args) -> int:
    from app.search.index import classify_untagged

    with _open(args.project, args.run) as project:
        clf, suggestions = classify_untagged(project, args.run, args.threshold)
        names = {t.id: t.name for t in project.tags.all()}
        if not clf.models:
            raise SearchError("no tag can be learnt: tag some embedded images with at least "
                              "two different tags (and run `kestrel embed` first)")
        media = {m: project.media.get(m).name for m in suggestions}
    rows = [{"media_id": m, "name": media[m],
             "tags": [{"tag_id": t, "tag": names[t], "confidence": round(p, 4)} for t, p in s]}
            for m, s in sorted(suggestions.items())]
    if args.json:
        print(json.dumps({"run": args.run, "learnt": [names[t] for t in clf.tags],
                          "skipped": [names[t] for t in clf.skipped], "suggestions": rows}))
        return 0
    print(f"learnt {', '.join(names[t] for t in clf.tags)}"
          + (f"; too few examples for {', '.join(names[t] for t in clf.skipped)}"
             if clf.skipped else ""))
    for r in rows:
        tags = ", ".join(f"{t['tag']} {t['confidence']:.2f}" for t in r["tags"]) or "-"
        print(f"media {r['media_id']} {r['name']}: {tags}")
    return 0


SEARCH_COMMANDS = {"embed": cmd_embed, "search": cmd_search, "classify": cmd_classify}
