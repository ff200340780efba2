"""The loaded graph: an Oxigraph store with one named graph per file, and how to query it.

Only kg's query modules and validators call ``Corpus.query``; everything above kg reads through
kg.api. Values come back as plain Python values (IRIs and blank nodes as strings).

The store is either embedded (a ``pyoxigraph.Store`` in this process, validated as it is loaded)
or a SPARQL server holding the same dataset (kg.sparqlstore): both answer ``GraphStore``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import pyoxigraph as ox

from kg import ns
from kg.errors import RecordError, StoreError
from kg.paths import VOCAB_FILE

T = TypeVar("T")
_RECORDS_SEEN = ("kg.store", "records_seen")  # a memo key no read-API function uses


class GraphStore(Protocol):
    """What kg reads a store through: pyoxigraph.Store, or kg.sparqlstore.SparqlStore."""

    def query(self, query: str, *, use_default_graph_as_union: bool = False) -> Any:
        """SELECT gives solutions, ASK a boolean, CONSTRUCT triples."""

    def quads_for_pattern(
        self, subject: Any, predicate: Any, object: Any, graph_name: Any = None
    ) -> Iterator[ox.Quad]:
        """The quads matching a pattern, None matching anything."""

    def dump(self, output: Any = None, format: Any = None) -> Any:
        """The dataset serialised (N-Quads)."""

    def __len__(self) -> int:
        """The number of quads."""


@dataclass
class Corpus:
    """The loaded graph and where it came from."""

    root: Path
    store: GraphStore
    files: list[Path]
    records: list[Path] = field(default_factory=list)
    skipped: list[RecordError] = field(default_factory=list)  # records left out as unreadable
    from_cache: bool = False
    # each record file's [size, modification time] as seen before it was read (kg.load)
    record_stats: dict[str, list[int] | None] = field(default_factory=dict)
    # kg.load's key of the claim files and kg's code as seen before they were read ("" if none)
    fingerprint: str = ""
    memo: dict[Any, Any] = field(default_factory=dict, repr=False)  # the graph never changes

    @property
    def embedded(self) -> ox.Store:
        """The in-process store, for what only it can do (validation, the SPARQL endpoint's
        copy); a graph on a server raises StoreError."""
        if not isinstance(self.store, ox.Store):
            raise StoreError(
                f"this needs the graph in this process, not on {self.store!r}:"
                " unset FWCLAIMS_STORE (or drop --store) for it"
            )
        return self.store

    def query(self, sparql: str, **bindings: str) -> list[dict[str, Any]]:
        """Run a SELECT over the union of all graphs; rows map variable names to Python values."""
        if bindings:
            sparql = bind_values(sparql, bindings)
        result = self.store.query(ns.SPARQL_PREFIXES + sparql, use_default_graph_as_union=True)
        if not isinstance(result, ox.QuerySolutions):
            raise TypeError("Corpus.query runs SELECT queries; use Corpus.ask for ASK")
        # by position: looking a variable up by name costs more than converting its value
        names = list(enumerate(v.value for v in result.variables))
        return [{n: to_python(sol[i]) for i, n in names} for sol in result]

    def ask(self, sparql: str) -> bool:
        """Run an ASK over the union of all graphs."""
        return bool(self.store.query(ns.SPARQL_PREFIXES + sparql, use_default_graph_as_union=True))

    def records_seen(self) -> dict[str, list[int] | None]:
        """``record_stats`` keyed by each record's path relative to the root, as the graph names
        it (kg.store.display_path; one outside the root by its absolute path): what
        ``record_stats.get(os.path.join(root, record))`` gives, one dict lookup per run where
        joining the paths cost more."""
        return self.memoised(_RECORDS_SEEN, self._records_seen)

    def _records_seen(self) -> dict[str, list[int] | None]:
        prefix = os.path.join(str(self.root), "")
        cut = len(prefix)
        return {(k[cut:] if k.startswith(prefix) else k): v for k, v in self.record_stats.items()}

    def record_seen(self, record: str) -> list[int] | None:
        """A record file's [size, modification time] as kg.load saw it before reading it (None
        where it did not), by its path as the graph names it."""
        return self.records_seen().get(record)

    def memoised(self, key: Any, make: Callable[[], T]) -> T:
        """``make()`` once per corpus: read-API results are reused, the graph being immutable."""
        if key not in self.memo:
            self.memo[key] = make()
        return cast(T, self.memo[key])


def bind_values(sparql: str, bindings: dict[str, str]) -> str:
    """Pre-bind variables with a VALUES block at the top of the WHERE clause. Values are
    serialised as RDF terms by Oxigraph, so no caller text reaches the query unescaped."""
    at = sparql.upper().index("WHERE")
    brace = sparql.index("{", at) + 1
    names = " ".join(f"?{k}" for k in bindings)
    terms = " ".join(str(_term(v)) for v in bindings.values())
    return f"{sparql[:brace]} VALUES ({names}) {{ ({terms}) }} {sparql[brace:]}"


def values_block(var: str, iris: list[str]) -> str:
    """'VALUES ?c { <a> <b> }' for IRIs, each written by Oxigraph (so it is a valid IRI)."""
    return f"VALUES ?{var} {{ {' '.join(str(ox.NamedNode(i)) for i in iris)} }}"


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
        return ns.graph_iri("vocab")
    try:
        rel = _unlinked(path).relative_to(root.resolve())
    except ValueError:
        rel = Path(path.name)
    return ns.graph_iri(rel.as_posix())


def _unlinked(path: Path) -> Path:
    # The folder resolved, the name kept: a link is named as itself, not as what it points to.
    return path.absolute().parent.resolve() / path.name


def display_path(root: Path, path: Path) -> str:
    """A path as a user should see it in a message: relative to the root when possible."""
    try:
        return _unlinked(path).relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
