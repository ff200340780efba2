"""Each claim's Turtle and JSON-LD downloads, kept beside the corpus cache so that a claim whose
inputs did not change is not canonicalised (RDFC-1.0) and serialised again.

An entry is named by a digest of everything its documents are made of, together with the code
and versions that write them (kg's modules, which turn records into triples too, the package's
and Oxigraph's versions):

- for a graph kg.load built from this project's files, and where no graph but a record's own says
  anything about a run, the claim's own triples and, for each of its runs, the record files it
  came from as the load saw them (path, size, modification time; records are append-only), so
  the runs' many triples need not be gathered at all;
- otherwise (a graph on a SPARQL server, say) all of the claim's triples, its runs' among them.

A claim's own triples are written with each blank node as the nested term it stands for, which
is canonical for the tree-shaped parts a claim has (appearances, conditions, a check and its
rule): two claims share a name only when their graphs are isomorphic, and then RDFC gives the
same bytes. A claim whose blank nodes are not a tree (one node used twice, a cycle) gets no name
and is always written afresh, so an entry is never stale. Each entry also keeps a digest of its
own bytes: a damaged one is a miss.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path

import pyoxigraph as ox

from kg import export, ns, paths
from kg.errors import StoreError
from kg.fsutil import write_atomic
from kg.store import Corpus

VERSION = "1"
FOLDER = "documents"
TELL_FILE = "records-tell.json"  # records_tell's answer, under the claim files' key
CODE_GLOBS = ("*.py", "*.json")  # kg's: records to triples (and their upgrades), triples to text


def _version(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def code_digest() -> str:
    """A digest of the code and versions that write the documents."""
    h = hashlib.sha256(f"v{VERSION}\0{_version('fwclaims')}\0{_version('pyoxigraph')}\0".encode())
    here = Path(__file__).parent
    for f in sorted(p for g in CODE_GLOBS for p in here.glob(g)):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _nested(node: object, blank: dict[object, list[ox.Triple]], seen: set[object]) -> str:
    if not isinstance(node, ox.BlankNode):
        return str(node)  # N-Triples syntax: one text per term
    seen.add(node)
    parts = sorted([str(t.predicate), _nested(t.object, blank, seen)] for t in blank.get(node, ()))
    return json.dumps(parts)


def claim_key(triples: list[ox.Triple], code: str) -> str | None:
    """The name of a claim's entry, or None when its blank nodes are not a tree."""
    blank: dict[object, list[ox.Triple]] = defaultdict(list)
    used: Counter[object] = Counter()
    top = []
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            blank[t.subject].append(t)
        else:
            top.append(t)
        if isinstance(t.object, ox.BlankNode):
            used[t.object] += 1
    if any(n != 1 for n in used.values()) or any(b not in used for b in blank):
        return None  # shared or unreferenced blank nodes: the nested form would not be canonical
    seen: set[object] = set()
    try:
        body = sorted(
            json.dumps([str(t.subject), str(t.predicate), _nested(t.object, blank, seen)])
            for t in top
        )
    except RecursionError:
        return None
    if len(seen) != len(used):
        return None  # a cycle of blank nodes that no named node reaches
    h = hashlib.sha256(code.encode() + b"\0")
    for line in body:
        h.update(line.encode() + b"\n")
    return h.hexdigest()


def _entry(folder: Path, key: str) -> Path:
    return folder / key[:2] / key


def _read(path: Path) -> tuple[bytes, bytes] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, _, body = data.partition(b"\n")
    try:
        size_text, digest = head.decode("ascii").split(" ")
        size = int(size_text)
    except ValueError:
        return None
    if hashlib.sha256(body).hexdigest() != digest or not 0 <= size <= len(body):
        return None
    return body[:size], body[size:]


def _write(path: Path, docs: tuple[bytes, bytes]) -> None:
    body = docs[0] + docs[1]
    head = f"{len(docs[0])} {hashlib.sha256(body).hexdigest()}\n".encode("ascii")
    try:
        write_atomic(path, head + body)
    except OSError:
        pass  # a read-only cache only costs speed


def claim_documents(
    corpus: Corpus, ids: list[str] | None = None, *, use_cache: bool = True
) -> tuple[dict[str, tuple[bytes, bytes]], list[str]]:
    """Each claim's (or only `ids`') Turtle and JSON-LD, from the cache where its inputs did not
    change, and the ids of the claims whose documents were written afresh. With every claim
    asked for, entries that none of them uses any more are removed."""
    if not use_cache:
        graphs = export.claim_graphs(corpus, ids)
        return {cid: export.claim_documents(t) for cid, t in graphs.items()}, list(graphs)
    folder = paths.cache_dir(corpus.root) / FOLDER
    code = code_digest()
    if records_tell(corpus):
        keys = {
            cid: record_key(corpus, node, code)
            for cid, node in export.claim_nodes(corpus, ids).items()
        }
        graphs: dict[str, list[ox.Triple]] | None = None
    else:
        graphs = export.claim_graphs(corpus, ids)
        keys = {cid: claim_key(t, code) for cid, t in graphs.items()}
    out: dict[str, tuple[bytes, bytes]] = {}
    for cid, key in keys.items():
        docs = _read(_entry(folder, key)) if key else None
        if docs is not None:
            out[cid] = docs
    missing = [cid for cid in keys if cid not in out]
    if missing and graphs is None:
        every = ids is None and len(missing) > len(keys) // 4  # one pass over the store, then
        graphs = export.claim_graphs(corpus, None if every else missing)
    for cid in missing:
        assert graphs is not None
        out[cid] = export.claim_documents(graphs[cid])
        key = keys[cid]
        if key:
            _write(_entry(folder, key), out[cid])
    if ids is None:
        _prune(folder, {k for k in keys.values() if k})
    return dict(sorted(out.items())), missing


def records_tell(corpus: Corpus) -> bool:
    """Whether what the graph says of each run can be told by its record's file: the graph was
    loaded here from the files (kg.load saw each one's size and time before reading it), and no
    other graph says anything about a run. The answer is kept beside the corpus cache under
    kg.load's key of the claim files and kg's code (and Oxigraph's version): a record's graph
    is named by its path under data/results/ and holds only what kg.recordgraph puts there, so
    new records cannot change it, and after one they need not be asked again (a query over
    every claim's graph)."""
    if not corpus.record_stats:
        return False
    return corpus.memoised("doccache.records_tell", lambda: _told(corpus))


def _told(corpus: Corpus) -> bool:
    key = None
    if corpus.fingerprint:
        text = f"v{VERSION}\0{_version('pyoxigraph')}\0{corpus.fingerprint}"
        key = hashlib.sha256(text.encode()).hexdigest()
    path = paths.cache_dir(corpus.root) / TELL_FILE
    if key is not None:
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            kept = None
        if isinstance(kept, dict) and kept.get("key") == key and isinstance(kept.get("tell"), bool):
            return kept["tell"]
    try:
        found = export.runs_only_in_records(corpus)
    except StoreError:
        return False  # not kept: a store that failed says nothing of the next load
    if key is not None:
        try:
            write_atomic(path, json.dumps({"key": key, "tell": found}) + "\n")
        except OSError:
            pass  # a read-only cache only costs speed
    return found


def record_key(corpus: Corpus, claim: ox.NamedNode, code: str) -> str | None:
    """The name of a claim's entry from its own triples and its runs' record files (path, and
    size and modification time as kg.load saw them before reading them; records are
    append-only) rather than from the runs' triples, which then need not be gathered; None when
    its parts are not a tree or a run's record is not one the corpus read."""
    own = claim_key(export.claim_parts(corpus, claim), code)
    if own is None:
        return None
    runs = []
    for run, records in export.claim_run_records(corpus, claim):
        seen = [corpus.record_seen(rel) for rel in records]
        if not run.startswith(ns.RUN) or not records or None in seen:
            return None  # not a run of a record this corpus read
        runs.append([run, records, seen])
    h = hashlib.sha256(f"records\0{own}\0".encode())
    h.update(json.dumps(runs).encode())
    return h.hexdigest()


def _prune(folder: Path, keep: set[str]) -> None:
    """Remove the entries not named in `keep` (a temporary file being written is left alone)."""
    for path in folder.glob("*/*"):
        if path.name not in keep and not path.name.startswith("."):
            try:
                path.unlink()
            except OSError:
                pass
