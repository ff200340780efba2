"""Each claim's Turtle and JSON-LD downloads, kept beside the corpus cache so that a claim whose
triples did not change is not canonicalised (RDFC-1.0) and serialised again.

An entry is named by a digest of everything its documents are made of: the claim's triples (its
records' runs, reviews and measurements among them), with each blank node written as the nested
term it stands for, and the code and versions that write them (kg's serialising modules, the
package's and Oxigraph's versions). For the tree-shaped parts a claim has (appearances,
conditions, a check and its rule) that nested form is canonical: two claims get the same name only
when their graphs are isomorphic, and then RDFC gives the same bytes. A graph whose blank nodes
are not a tree (one node used twice, a cycle) gets no name and is always written afresh, so an
entry is never stale. Each entry also keeps a digest of its own bytes: a damaged one is a miss.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path

import pyoxigraph as ox

from kg import export, paths
from kg.fsutil import write_atomic

VERSION = "1"
FOLDER = "documents"
CODE = ("doccache.py", "export.py", "ns.py")  # what turns a claim's triples into its documents


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
    for name in CODE:
        h.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
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
    root: Path, graphs: dict[str, list[ox.Triple]], *, use_cache: bool = True,
    complete: bool = False,
) -> tuple[dict[str, tuple[bytes, bytes]], list[str]]:  # fmt: skip
    """Each claim's (Turtle, JSON-LD), from the cache where its triples are unchanged, and the
    ids of the claims whose documents were written afresh. `complete`: `graphs` holds every
    claim, so entries that none of them uses any more are removed."""
    folder = paths.cache_dir(root) / FOLDER
    code = code_digest()
    out: dict[str, tuple[bytes, bytes]] = {}
    fresh: list[str] = []
    keys: set[str] = set()
    for cid, triples in graphs.items():
        key = claim_key(triples, code) if use_cache else None
        docs = _read(_entry(folder, key)) if key else None
        if docs is None:
            docs = export.claim_documents(triples)
            fresh.append(cid)
            if key:
                _write(_entry(folder, key), docs)
        if key:
            keys.add(key)
        out[cid] = docs
    if use_cache and complete:
        _prune(folder, keys)
    return out, fresh


def _prune(folder: Path, keep: set[str]) -> None:
    """Remove the entries not named in `keep` (a temporary file being written is left alone)."""
    for path in folder.glob("*/*"):
        if path.name not in keep and not path.name.startswith("."):
            try:
                path.unlink()
            except OSError:
                pass
