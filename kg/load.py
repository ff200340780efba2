"""Load the corpus (vocabulary + claims/*.ttl + run records) into an Oxigraph store.

Each file goes into its own named graph, so a problem can be traced to the file that caused it.
A validated corpus is cached as N-Quads keyed by the files' sizes and modification times: a warm
`verify list` parses nothing with rdflib and runs no SHACL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import ns, paths
from kg.errors import Problem, TurtleSyntaxError, ValidationFailed
from kg.fsutil import write_atomic

VOCAB_FILE = Path(__file__).with_name("fwc.ttl")
SHAPES_FILE = Path(__file__).with_name("shapes.ttl")
CACHE_VERSION = "1"


@dataclass
class Corpus:
    """The loaded graph and where it came from."""

    root: Path
    store: ox.Store
    files: list[Path]
    records: list[Path] = field(default_factory=list)
    from_cache: bool = False
    memo: dict = field(
        default_factory=dict, repr=False
    )  # results of read-API calls; the graph never changes

    def query(self, sparql: str, **bindings: str) -> list[dict[str, Any]]:
        """Run a SELECT over the union of all graphs; rows map variable names to Python values."""
        if bindings:
            sparql = bind_values(sparql, bindings)
        result = self.store.query(ns.SPARQL_PREFIXES + sparql, use_default_graph_as_union=True)
        # by position: looking a variable up by name costs more than converting its value
        names = list(enumerate(v.value for v in result.variables))
        return [{n: to_python(sol[i]) for i, n in names} for sol in result]

    def ask(self, sparql: str) -> bool:
        """Run an ASK over the union of all graphs."""
        return bool(self.store.query(ns.SPARQL_PREFIXES + sparql, use_default_graph_as_union=True))

    def graph_name(self, path: Path) -> str:
        """The named graph a file's triples live in."""
        return graph_iri(self.root, path)

    def rdflib_graph(self):  # -> rdflib.Dataset; rdflib is imported only when needed
        """The corpus as an rdflib Dataset (for SHACL, exports and graph comparison)."""
        import rdflib

        ds = rdflib.Dataset()
        data = self.store.dump(format=ox.RdfFormat.N_QUADS)
        ds.parse(data=data, format="nquads")
        return ds


def bind_values(sparql: str, bindings: dict[str, str]) -> str:
    """Pre-bind variables with a VALUES block at the top of the WHERE clause. Values are
    serialised as RDF terms by Oxigraph, so no caller text reaches the query unescaped."""
    at = sparql.upper().index("WHERE")
    brace = sparql.index("{", at) + 1
    names = " ".join(f"?{k}" for k in bindings)
    terms = " ".join(str(_term(v)) for v in bindings.values())
    return f"{sparql[:brace]} VALUES ({names}) {{ ({terms}) }} {sparql[brace:]}"


def _term(value: str) -> ox.NamedNode | ox.Literal:
    return ox.NamedNode(value) if value.startswith(("http://", "https://")) else ox.Literal(value)


def to_python(term: Any) -> Any:
    """An Oxigraph term as a plain Python value (IRIs and blank nodes as strings)."""
    kind = type(term)
    if kind is ox.NamedNode:
        return term.value
    if kind is ox.Literal:
        dt = term.datatype
        return _converter(dt.value if dt else "")(term.value)
    if term is None:
        return None
    if kind is ox.BlankNode:
        return "_:" + term.value
    return term.value


@lru_cache(maxsize=64)
def _converter(datatype: str) -> Callable[[str], Any]:
    """How to turn a literal's text into a Python value, by datatype IRI (looked up once)."""
    if datatype.endswith(("#integer", "#int", "#long")):
        return int
    if datatype.endswith(("#decimal", "#double", "#float")):
        return float
    if datatype.endswith("#boolean"):
        return "true".__eq__
    return str


def graph_iri(root: Path, path: Path) -> str:
    """Named-graph IRI for a file: its path relative to the root, or 'vocab' for kg/fwc.ttl."""
    if path.resolve() == VOCAB_FILE.resolve():
        return ns.GRAPH + "vocab"
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        rel = Path(path.name)
    return ns.GRAPH + rel.as_posix()


def display_path(root: Path, path: Path) -> str:
    """A path as a user should see it in a message: relative to the root when possible."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def turtle_files(root: Path) -> list[Path]:
    """The vocabulary and the hand-edited claim files, in a stable order."""
    return [
        VOCAB_FILE,
        *sorted(paths.claims_dir(root).glob("*.ttl")),
        *sorted(paths.snapshots_dir(root).glob("*.ttl")),
    ]


def record_files(root: Path) -> list[Path]:
    """Run records under data/results/, in a stable order."""
    base = paths.results_dir(root)
    return sorted(base.glob("*/*.json")) if base.is_dir() else []


def fingerprint(files: Iterable[Path]) -> str:
    """A key that changes when any input file, or the kg code that turns files into triples and
    validates them, is added, removed or modified."""
    h = hashlib.sha256(CACHE_VERSION.encode())
    code = sorted(Path(__file__).parent.glob("*.py"))
    for f in [*files, SHAPES_FILE, *code]:
        st = f.stat()
        h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def parse_turtle(store: ox.Store, root: Path, files: list[Path]) -> list[Problem]:
    """Parse each Turtle file into its own named graph; syntax errors come back as Problems."""
    problems = []
    for f in files:
        try:
            store.load(
                path=str(f), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(graph_iri(root, f))
            )
        except SyntaxError as e:
            msg = str(e.msg if hasattr(e, "msg") else e)
            msg = msg.split(": ", 1)[1] if msg.startswith("Parser error") and ": " in msg else msg
            problems.append(
                Problem(
                    display_path(root, f), e.lineno, "Turtle syntax", f"{msg}; fix the Turtle there"
                )
            )
        except OSError as e:
            problems.append(Problem(display_path(root, f), None, "file", f"cannot be read: {e}"))
    return problems


def load_corpus(root: Path | None = None, *, use_cache: bool = True) -> Corpus:
    """Load and validate the corpus at `root` (discovered when None); raise on any problem."""
    root = paths.find_root() if root is None else root.resolve()
    files = turtle_files(root)
    records = record_files(root)
    key = fingerprint([*files, *records])
    cache = paths.cache_dir(root)
    nq, meta = cache / "corpus.nq", cache / "corpus.json"
    if use_cache and meta.is_file() and nq.is_file():
        try:
            if json.loads(meta.read_text()).get("key") == key:
                store = ox.Store()
                store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
                return Corpus(root, store, files, records, from_cache=True)
        except (OSError, ValueError, SyntaxError):
            pass  # a damaged cache is rebuilt below
    corpus = build_corpus(root, files, records)
    if use_cache:
        _write_cache(corpus, cache, key)
    return corpus


def build_corpus(root: Path, files: list[Path], records: list[Path]) -> Corpus:
    """Parse and validate from scratch (no cache)."""
    from kg import validate  # the validators load only on this path (pyshacl only if asked)

    store = ox.Store()
    problems = parse_turtle(store, root, files)
    if problems:
        if len(problems) == 1:
            raise TurtleSyntaxError(problems[0])
        raise ValidationFailed(problems)
    if records:
        from kg import records as rec

        problems += rec.load_records(store, root, records)
    corpus = Corpus(root, store, files, records)
    problems += validate.validate(corpus)
    if problems:
        raise ValidationFailed(problems)
    return corpus


def _write_cache(corpus: Corpus, cache: Path, key: str) -> None:
    try:
        write_atomic(cache / "corpus.nq", corpus.store.dump(format=ox.RdfFormat.N_QUADS))
        write_atomic(cache / "corpus.json", json.dumps({"key": key}))
    except OSError:
        pass  # a read-only location only costs speed
