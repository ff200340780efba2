"""Load the corpus (vocabulary + claims/*.ttl + snapshots + run records) into an Oxigraph store,
validate it, and cache the result.

Each file goes into its own named graph, so a problem can be traced to the file that caused it.
A validated corpus is cached as TriG keyed by the Turtle files' and kg's code's sizes and
modification times: a warm `verify list` parses nothing with rdflib and runs no SHACL. Run records
are not part of that key: the cache lists each record it holds (size, modification time), a new
record is read and added on the next load (its quads kept as one more part of the cache), and a
record removed or changed since has its named graph dropped (and is read again if changed).
No validation rule reads a record's graph (the shapes and the cross-file rules are about claims,
sources, benchmarks and snapshots), so a validated corpus with records added is the corpus a cold
load validates. For the same reason a changed claim file costs no record reading: while kg's code
is unchanged, the cached graph's claim-file graphs are dropped, the Turtle files parsed again and
the whole validated again (records as they are), which is what a cold load does minus reading
every record. Only changed kg code (or a missing or damaged cache) makes a cold load.

Run records are read through kg.records. A record that cannot be read never blocks the claims:
with ``record_policy="skip"`` (the default) it is left out and named in ``Corpus.skipped``, so a
command can warn; with ``record_policy="strict"`` (`verify check`) it is a problem like any other.

With ``FWCLAIMS_STORE=URL`` (or ``store=URL``) the graph is read from a SPARQL server that
`verify export --to URL` loaded (kg.sparqlstore) instead of being built here; nothing is parsed
or validated locally then, the graph having been validated when it was exported.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyoxigraph as ox

from kg import gcpause, ns, paths, recordgraph, records, sparqlstore, turtlecheck
from kg.errors import Problem, RecordError, TurtleSyntaxError, UsageError, ValidationFailed
from kg.fsutil import write_atomic
from kg.paths import SHAPES_FILE, VOCAB_FILE
from kg.store import Corpus, display_path, graph_iri

CACHE_VERSION = "4"
CACHE_PARTS = 16  # parts of new records kept before the cache is written as one again
# The cache's parts are TriG with prefixes: a seventh of N-Quads' bytes, quicker to write, and as
# quick to read. They are read with Store.load, lenient (the IRIs were checked when they were
# first parsed): 14 s rather than 25 s for bulk_load's checked reading of 5 million quads.
CACHE_FORMAT = ox.RdfFormat.TRIG
CACHE_PREFIXES = {**ns.PREFIXES, "graph": ns.GRAPH}
RECORD_POLICIES = ("skip", "strict")
STORE_VARIABLE = "FWCLAIMS_STORE"


def store_url(store: str | None = None) -> str:
    """The SPARQL server to read from: `store` when given, else $FWCLAIMS_STORE; "" for the
    embedded store."""
    url = os.environ.get(STORE_VARIABLE, "") if store is None else store
    if url and not sparqlstore.is_url(url):
        raise UsageError(
            f"store {url!r} is not an http(s) URL: give a SPARQL server's base such as"
            f" http://127.0.0.1:7878, or unset {STORE_VARIABLE} for the embedded store"
        )
    return url


def turtle_files(root: Path) -> list[Path]:
    """The vocabulary and the hand-edited claim files, in a stable order. Hidden files (an
    editor's lock file ``.#performance.ttl``, a temporary file) are not claim files."""
    return [
        VOCAB_FILE,
        *sorted(p for p in paths.claims_dir(root).glob("*.ttl") if not p.name.startswith(".")),
        *sorted(p for p in paths.snapshots_dir(root).glob("*.ttl") if not p.name.startswith(".")),
    ]


def fingerprint(files: Iterable[Path]) -> str:
    """A key that changes when any input file, or the kg code that turns files into triples and
    validates them, is added, removed or modified."""
    return _key([*files, SHAPES_FILE, *_code()])


def code_key() -> str:
    """A key of kg's code alone: what turns a record into quads."""
    return _key(_code())


def _code() -> list[Path]:
    here = Path(__file__).parent
    return sorted([*here.glob("*.py"), *here.glob("*.json")])


def _key(files: list[Path]) -> str:
    h = hashlib.sha256(CACHE_VERSION.encode())
    for f in files:
        try:
            st = f.stat()
            h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except OSError:  # a broken link: loading reports it
            h.update(f"{f}\0unreadable\n".encode())
    return h.hexdigest()


def parse_turtle(store: ox.Store, root: Path, files: list[Path]) -> list[Problem]:
    """Parse each Turtle file into its own named graph; syntax errors come back as Problems."""
    problems = []
    for f in files:
        rel = display_path(root, f)
        if not f.is_file():
            problems.append(Problem(rel, None, "file", f"{_not_a_file(f)}: remove it or fix it"))
            continue
        try:
            store.load(
                path=str(f), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(graph_iri(root, f))
            )
        except SyntaxError as e:
            problems.append(Problem(rel, e.lineno, "Turtle syntax", _syntax_message(f, e)))
        except OSError as e:
            problems.append(
                Problem(
                    rel, None, "file", f"cannot be read ({e.strerror or e}): fix its permissions"
                )
            )
        else:
            if f != VOCAB_FILE:
                problems += turtlecheck.prefix_problems(rel, f.read_text("utf-8", "replace"))
    return problems


def _not_a_file(f: Path) -> str:
    if f.is_symlink() and not f.exists():
        return f"is a symbolic link to {os.readlink(f)}, which does not exist"
    return "is a folder, not a Turtle file" if f.is_dir() else "is not a regular file"


def _syntax_message(f: Path, e: SyntaxError) -> str:
    msg = str(e.msg if hasattr(e, "msg") else e)
    msg = msg.split(": ", 1)[1] if msg.startswith("Parser error") and ": " in msg else msg
    if msg.startswith("Invalid UTF-8"):
        return "the file is not UTF-8 text here: save it as UTF-8"
    hint = turtlecheck.syntax_hint(f, e)
    return hint if hint else f"{msg}; fix the Turtle there"


def record_quads(
    root: Path, files: list[Path]
) -> tuple[list[ox.Quad], list[Path], list[RecordError]]:
    """The quads of every readable record, the files they came from and the problems of the rest."""
    good, bad = records.read_all(files)
    quads: list[ox.Quad] = []
    loaded = []
    for path, rec in good:
        try:
            quads += recordgraph.record_quads(rec, display_path(root, path))
        except RecordError as e:
            bad.append(RecordError(f"{path}: {e}", str(path)))
            continue
        loaded.append(path)
    return quads, loaded, bad


def load_records(
    store: ox.Store, root: Path, files: list[Path]
) -> tuple[list[Path], list[RecordError]]:
    """Add every readable record to the store; the files added and the problems of the rest."""
    quads, loaded, bad = record_quads(root, files)
    if quads:
        store.extend(quads)
    return loaded, bad


def record_problem(root: Path, error: RecordError) -> Problem:
    """A record that could not be read, as one line of a corpus report."""
    path = error.path or ""
    rest = str(error).removeprefix(path)
    line, _, message = rest.removeprefix(":").partition(": ")
    if not line.isdigit():
        line, message = "", rest.removeprefix(": ")
    rel = display_path(root, Path(path)) if path else "data/results/"
    return Problem(rel, int(line) if line else None, "run record", message)


def load_corpus(
    root: Path | None = None,
    *,
    use_cache: bool = True,
    record_policy: str = "skip",
    store: str | None = None,
) -> Corpus:
    """Load and validate the corpus at `root` (discovered when None); raise on any problem in the
    claims, and on unreadable records only when ``record_policy="strict"``. `store` (default
    $FWCLAIMS_STORE) names a SPARQL server to read the graph from instead; "" forces the
    embedded store."""
    if record_policy not in RECORD_POLICIES:
        raise UsageError(f"unknown record policy {record_policy!r}: use one of {RECORD_POLICIES}")
    root = paths.find_root() if root is None else root.resolve()
    files = turtle_files(root)
    url = store_url(store)
    if url:
        return Corpus(root, sparqlstore.SparqlStore(url), files)
    with gcpause.paused():  # millions of long-lived terms and rows, no garbage
        return _load_embedded(root, files, use_cache, record_policy)


def _load_embedded(root: Path, files: list[Path], use_cache: bool, record_policy: str) -> Corpus:
    record_paths = records.record_files(paths.results_dir(root))
    key = fingerprint(files)  # records are told apart one by one (record_stats)
    cache = paths.cache_dir(root)
    stats = record_stats(record_paths)  # before any record is read
    if use_cache and record_policy == "skip":
        cached = _read_cache(cache, key, root, files, record_paths, stats)
        if cached is not None:
            cached.record_stats, cached.fingerprint = stats, key
            return cached
    corpus = build_corpus(root, files, record_paths, strict=record_policy == "strict")
    corpus.record_stats, corpus.fingerprint = stats, key
    if use_cache:
        _write_cache(corpus, cache, key, stats)
    return corpus


def record_stats(files: list[Path]) -> dict[str, list[int] | None]:
    """Each record file's size and modification time (None where it cannot be read)."""
    out: dict[str, list[int] | None] = {}
    for f in files:
        try:
            st = f.stat()
        except OSError:
            out[str(f)] = None
            continue
        out[str(f)] = [st.st_size, st.st_mtime_ns]
    return out


def build_corpus(
    root: Path, files: list[Path], record_paths: list[Path], *, strict: bool
) -> Corpus:
    """Parse and validate from scratch (no cache)."""
    store = ox.Store()
    parse_claims(store, root, files)
    loaded, skipped = load_records(store, root, record_paths)
    corpus = Corpus(root, store, files, loaded, skipped)
    return validated(corpus, [record_problem(root, e) for e in skipped] if strict else [])


def parse_claims(store: ox.Store, root: Path, files: list[Path]) -> None:
    """Parse the Turtle files into the store; raise on a syntax error or an unreadable file."""
    problems = parse_turtle(store, root, files)
    if len(problems) == 1:
        raise TurtleSyntaxError(problems[0])
    if problems:
        raise ValidationFailed(problems)


def validated(corpus: Corpus, problems: Sequence[Problem] = ()) -> Corpus:
    """The corpus, validated (raise with `problems` and its own) and its claims typed."""
    from kg import validate  # the validators load only here (pyshacl only if asked)

    problems = [*problems, *validate.validate(corpus)]
    if problems:
        raise ValidationFailed(problems)
    materialise_claim_types(corpus.embedded)
    return corpus


# Every claim is typed with an fwc: subclass only; readers who know schema.org look for
# schema:Claim, and no store infers it. The superclasses are added to each claim's own graph.
CLAIM_SUPERCLASSES = f"""{ns.SPARQL_PREFIXES}
INSERT {{ GRAPH ?g {{ ?c a ?super }} }}
WHERE {{
  GRAPH ?v {{ ?cls rdfs:subClassOf+ ?super . FILTER(?super IN (fwc:Claim, schema:Claim)) }}
  GRAPH ?g {{ ?c a ?cls }}
}}"""


def materialise_claim_types(store: ox.Store) -> None:
    """Type every claim as fwc:Claim and schema:Claim too (the superclasses of its fwc: class)."""
    store.update(CLAIM_SUPERCLASSES)


def _read_cache(
    cache: Path, key: str, root: Path, files: list[Path], record_paths: list[Path],
    stats: dict[str, list[int] | None],
) -> Corpus | None:  # fmt: skip
    """The cached corpus with the records added, changed and removed since, and with its claim
    files parsed and validated again when they changed; None when kg's code changed or the
    cache is missing or damaged. Invalid claims raise."""
    try:
        meta = json.loads((cache / "corpus.json").read_text())
        held = meta["records"]
        # removed or changed; one whose stat failed then and fails now stays as it was (skipped)
        gone = {p for p in held if p not in stats or stats[p] != held[p]}
        claims_changed = meta["key"] != key
        if (claims_changed or gone) and meta["code"] != code_key():
            return None
        store = ox.Store()
        for part in meta["parts"]:
            store.load(path=str(cache / part), format=CACHE_FORMAT, lenient=True)
        kept = [e for e in meta["skipped"] if e["path"] not in gone]
        skipped = [RecordError(str(e["message"]), str(e["path"])) for e in kept]
        before = [ox.NamedNode(g) for g in meta["claim_graphs"]]
    except (OSError, ValueError, SyntaxError, TypeError, KeyError, AttributeError):
        return None  # a missing or damaged cache is rebuilt
    for p in gone:  # removed or changed: its graph goes (a changed one is read below as new)
        store.clear_graph(ox.NamedNode(ns.graph_iri(display_path(root, Path(p)))))
        del held[p]
    new = [p for p in record_paths if str(p) not in held]
    quads: list[ox.Quad] = []
    if new:
        quads, _, bad = record_quads(root, new)
        store.extend(quads)
        skipped += bad
        held.update({str(p): stats.get(str(p)) for p in new})
        meta["skipped"] += [{"message": str(e), "path": e.path} for e in bad]
    left_out = {e.path for e in skipped}
    loaded = [p for p in record_paths if str(p) not in left_out]
    corpus = Corpus(root, store, files, loaded, skipped, from_cache=not claims_changed)
    if claims_changed:  # the records stay; the claim files' graphs are made again
        for graph in before:
            store.clear_graph(graph)
        parse_claims(store, root, files)
        validated(corpus)
    if claims_changed or gone:  # the cache's parts hold the old graphs
        _write_cache(corpus, cache, key, stats)
    elif new:
        _add_part(cache, meta, store, quads)
    return corpus


def _add_part(cache: Path, meta: dict, store: ox.Store, quads: list[ox.Quad]) -> None:
    """Keep the new records' quads as one more part of the cache (or, after CACHE_PARTS of
    them, the whole store as one)."""
    try:
        if len(meta["parts"]) >= CACHE_PARTS:
            meta["parts"] = [_write_part(cache, _dump(store))]
        else:
            data = ox.serialize(quads, format=CACHE_FORMAT, prefixes=CACHE_PREFIXES)
            meta["parts"].append(_write_part(cache, data))
        _write_meta(cache, meta)
    except OSError:
        pass  # a read-only location only costs speed


def _dump(store: ox.Store) -> bytes | None:
    return store.dump(format=CACHE_FORMAT, prefixes=CACHE_PREFIXES)


def _write_part(cache: Path, data: bytes | None) -> str:
    name = f"corpus-{uuid.uuid4().hex[:12]}.trig"
    write_atomic(cache / name, data or b"")
    return name


def _write_meta(cache: Path, meta: dict) -> None:
    """Write the cache's index, then remove the parts it no longer names."""
    write_atomic(cache / "corpus.json", json.dumps(meta))
    for f in cache.glob("corpus-*"):  # older caches' .nq parts too
        if f.name not in meta["parts"]:
            f.unlink(missing_ok=True)


def _write_cache(corpus: Corpus, cache: Path, key: str, stats: dict[str, list[int] | None]) -> None:
    try:
        part = _write_part(cache, _dump(corpus.embedded))
        skipped = [{"message": str(e), "path": e.path} for e in corpus.skipped]
        graphs = [graph_iri(corpus.root, f) for f in corpus.files]  # dropped when they change
        meta = {"key": key, "code": code_key(), "claim_graphs": graphs, "parts": [part]}
        _write_meta(cache, {**meta, "records": stats, "skipped": skipped})
    except OSError:
        pass  # a read-only location only costs speed
