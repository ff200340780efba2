"""Where things are in the claim files: which claim owns a graph node, and on which line of which
file a subject or one of its properties is written. Used to phrase validation problems."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property, lru_cache
from pathlib import Path

from kg import ns
from kg.paths import VOCAB_FILE
from kg.store import Corpus, display_path


class Locator:
    """Maps graph nodes to the claim that owns them and to a file and line."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    # The maps are built on first use: a valid corpus never needs them, and at 10^5 triples
    # walking every quad in Python costs more than validating.
    @cached_property
    def home(self) -> dict[str, tuple[str, str | None]]:
        """Each typed IRI -> (its first graph, its schema:identifier if any)."""
        rows = self.corpus.store.query(
            "SELECT ?s ?g ?id WHERE { GRAPH ?g { ?s a ?t . OPTIONAL { ?s <%sidentifier> ?id } } "
            "FILTER(isIRI(?s)) }" % ns.SCHEMA
        )
        home: dict[str, tuple[str, str | None]] = {}
        for r in rows:
            home.setdefault(r["s"].value, (r["g"].value, r["id"].value if r["id"] else None))
        return home

    @property
    def parent(self) -> dict[str, tuple[str, str]]:
        """Each node that is an object -> (its first referrer, the predicate)."""
        return self._links[0]

    @property
    def subjects(self) -> set[str]:
        """Every node that is the subject of some triple."""
        return self._links[1]

    @cached_property
    def _links(self) -> tuple[dict[str, tuple[str, str]], set[str]]:
        parent: dict[str, tuple[str, str]] = {}
        subjects: set[str] = set()
        for q in self.corpus.store.quads_for_pattern(None, None, None, None):
            subjects.add(_node_key(q.subject))
            if q.object.__class__.__name__ != "Literal":
                # first referrer wins: enough to trace a blank node or a dangling IRI to its claim
                parent.setdefault(_node_key(q.object), (_node_key(q.subject), q.predicate.value))
        return parent, subjects

    def owner(self, node: str) -> tuple[str, list[str]]:
        """The IRI that owns a (possibly blank) node, and the property path down to it."""
        path: list[str] = []
        seen = set()
        while (node.startswith("_:") or self.dangling(node)) and node not in seen:
            seen.add(node)
            up = self.parent.get(node)
            if not up:
                break
            node, pred = up
            path.insert(0, pred)
        return node, path

    def dangling(self, iri: str) -> bool:
        """True for an IRI that is pointed at but never described (a typo, a missing source)."""
        return not iri.startswith("_:") and iri not in self.subjects and iri in self.parent

    def file_of(self, iri: str) -> Path | None:
        """The file that defines an IRI (types it), if any."""
        g = self.home.get(iri, (None,))[0]
        if not g:
            return None
        rel = ns.graph_path(g)
        return VOCAB_FILE if rel == "vocab" else self.corpus.root / rel

    def where(
        self,
        iri: str,
        prop: str | None = None,
        *,
        via: Sequence[str] = (),
        value: str | None = None,
    ) -> tuple[str, int | None]:
        """File and line of an IRI's definition, or of the triple a problem is about within it:
        the property `prop` reached through the nested properties `via`, on the line that holds
        `value` when one does."""
        f = self.file_of(iri)
        if f is None:
            return "claims/", None
        return display_path(self.corpus.root, f), find_line(f, iri, prop, via=via, value=value)

    def label(self, iri: str) -> str:
        """'claim ID' / 'source ID' / 'benchmark ID' for a defined IRI."""
        ident = self.home.get(iri, (None, None))[1]
        for base, word in ((ns.CLAIM, "claim"), (ns.SRC, "source"), (ns.BENCH, "benchmark")):
            if iri.startswith(base):
                return f"{word} '{ident or iri[len(base) :]}'"
        return f"<{iri}>"


def _node_key(term) -> str:
    return ("_:" + term.value) if term.__class__.__name__ == "BlankNode" else term.value


@lru_cache(maxsize=256)
def _lines(path: Path, mtime: float) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@lru_cache(maxsize=256)
def _starts(path: Path, mtime: float) -> dict[str, int]:
    """The first line at which each name opens a statement (a name in column 0, then a space).
    Built once per file version, so locating many problems does not rescan the file each time."""
    first: dict[str, int] = {}
    for i, ln in enumerate(_lines(path, mtime)):
        if ln and not ln[0].isspace():
            first.setdefault(ln.split(None, 1)[0], i)
    return first


def file_lines(path: Path) -> list[str]:
    """The lines of a file (cached per version), or none when it cannot be read as UTF-8."""
    try:
        return _lines(path, path.stat().st_mtime)
    except (OSError, UnicodeDecodeError):
        return []


def find_text(path: Path, needles: list[str]) -> int | None:
    """The first line (1-based) holding one of `needles` as a whole name, or None."""
    lines = file_lines(path)
    hit = _search(lines, 0, len(lines), needles)
    return None if hit is None else hit + 1


def find_line(
    path: Path,
    iri: str,
    prop: str | None = None,
    *,
    via: Sequence[str] = (),
    value: str | None = None,
) -> int | None:
    """Line of the statement block that defines `iri` (by prefixed or full name), or of the
    triple inside that block: each property of `via` in turn, then `prop`, then (when given and
    found) the line holding `value` (an IRI or a literal's text)."""
    try:
        mtime = path.stat().st_mtime
        lines = _lines(path, mtime)
    except (OSError, UnicodeDecodeError):
        return None
    starts = _starts(path, mtime)
    start = min((starts[n] for n in _names(iri) if n in starts), default=None)
    if start is None:
        return None
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i][:1] not in (" ", "\t", "")),
        len(lines),
    )
    at, first = start, None
    for p in [*via, prop]:
        if p is None:
            continue
        hit = _search(lines, at, end, _names(p))
        if hit is None:
            break
        at = hit
        first = hit if first is None else first
    if value:
        needles = _names(value) if value.startswith(("http://", "https://")) else []
        text = value.strip().splitlines()[0][:40] if value.strip() else ""
        if text:
            needles.append(text)
        hit = _search(lines, at, end, needles, word=False)
        if hit is None and first is not None:
            hit = _search(lines, first, end, needles, word=False)
        at = hit if hit is not None else at
    return at + 1


def _names(iri: str) -> list[str]:
    """The ways a file can spell an IRI: <full> or a known prefix."""
    return [f"<{iri}>"] + [
        f"{p}:{iri[len(base) :]}" for p, base in ns.PREFIXES.items() if iri.startswith(base)
    ]


def _search(
    lines: list[str], start: int, end: int, needles: list[str], word: bool = True
) -> int | None:
    """The first line from `start` to `end` holding one of `needles` (as a whole name)."""
    if not needles:
        return None
    pattern = re.compile("|".join(re.escape(n) + (r"(?![\w-])" if word else "") for n in needles))
    return next(
        (
            i
            for i in range(start, end)
            if not lines[i].lstrip().startswith("#") and pattern.search(lines[i])
        ),
        None,
    )


def prefixed(iri: str) -> str:
    """A short name for an IRI (fwc:category) when a known prefix fits."""
    for p, base in sorted(ns.PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(base):
            return f"{p}:{iri[len(base) :]}"
    return f"<{iri}>"
