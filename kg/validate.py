"""Validate a loaded corpus: SHACL shapes (kg.shacl_fast, or pyshacl) plus checks that span files.

Every problem becomes one line naming the file and line, the claim id, the property and the fix.
"""

from __future__ import annotations

import os

from kg import checkrules, crossfile
from kg.errors import Problem, UsageError
from kg.locate import Locator, prefixed
from kg.paths import SHAPES_FILE
from kg.shacl_fast import Violation
from kg.store import Corpus
from kg.textutil import close_matches, odd_character_note

SH = "http://www.w3.org/ns/shacl#"


def validate(corpus: Corpus) -> list[Problem]:
    """All problems in the corpus; an empty list means it is valid."""
    locator = Locator(corpus)
    duplicated = crossfile.duplicates(corpus, locator)
    problems = crossfile.problems(corpus, locator)
    problems += checkrules.check_problems(corpus, locator)
    problems += shacl_problems(corpus, locator)
    # A claim defined twice has its parts doubled, which SHACL then reports part by part; the
    # duplicate is the one thing to fix, so it is reported alone for that subject.
    hidden = {p.subject for p in duplicated}
    problems = [p for p in problems if p.subject not in hidden] + duplicated
    return sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.subject, p.message))


def shacl_problems(corpus: Corpus, loc: Locator, engine: str | None = None) -> list[Problem]:
    """Check the SHACL shapes and phrase each violation as a Problem. `engine` is "fast"
    (kg.shacl_fast: SPARQL on the Oxigraph store, no rdflib) or "pyshacl"; when None,
    $FWCLAIMS_SHACL decides, else "fast"."""
    problems = []
    for v in shacl_violations(corpus, engine):
        if loc.dangling(v.focus):
            problems.append(_dangling_problem(corpus, loc, v.focus))
            continue
        owner, via = loc.owner(v.focus)
        shown = v.value if v.value_kind in ("iri", "literal") else None
        f, line = loc.where(owner, v.path, via=via, value=shown)
        steps = [prefixed(p) for p in via]
        if v.path is not None:
            steps.append(prefixed(v.path))
        detail = f"{' / '.join(steps)}: " if steps else ""
        got = ""
        if v.value is not None and v.value_kind == "iri":
            got = f" (found {prefixed(v.value)})"
        elif v.value is not None and v.value_kind == "literal":
            got = f" (found {_short(v.value)!r}{odd_character_note(v.value)})"
        problems.append(Problem(f, line, loc.label(owner), f"{detail}{v.message}{got}"))
    return problems


def shacl_violations(corpus: Corpus, engine: str | None = None) -> list[Violation]:
    """The SHACL validation results for the corpus, from the chosen engine."""
    engine = engine or os.environ.get("FWCLAIMS_SHACL") or "fast"
    if engine == "fast":
        from kg import shacl_fast

        return shacl_fast.validate(corpus.store, SHAPES_FILE)
    if engine == "pyshacl":
        return _pyshacl_violations(corpus)
    raise UsageError(f"unknown SHACL engine '{engine}': set FWCLAIMS_SHACL to fast or pyshacl")


def _pyshacl_violations(corpus: Corpus) -> list[Violation]:
    """Run pyshacl over an rdflib copy of the union graph (slow: the reference implementation)."""
    import pyshacl
    import rdflib

    data = rdflib.Graph()
    # keep Oxigraph's blank-node ids so violations can be traced back to their claim
    data.parse(data=_union_nt(corpus), format="nt", bnode_context=_KeepIds())
    shapes = rdflib.Graph().parse(SHAPES_FILE)
    conforms, report, _ = pyshacl.validate(
        data, shacl_graph=shapes, advanced=False, inference="none"
    )
    if conforms:
        return []
    SHN = rdflib.Namespace(SH)

    def node(term) -> tuple[str, str]:
        if isinstance(term, rdflib.BNode):
            return "_:" + str(term), "bnode"
        return str(term), "iri" if isinstance(term, rdflib.URIRef) else "literal"

    found = set()
    for res in report.subjects(rdflib.RDF.type, SHN.ValidationResult):
        path = report.value(res, SHN.resultPath)
        value = report.value(res, SHN.value)
        val, kind = node(value) if value is not None else (None, None)
        component = str(report.value(res, SHN.sourceConstraintComponent))
        found.add(
            Violation(
                node(report.value(res, SHN.focusNode))[0],
                str(path) if isinstance(path, rdflib.URIRef) else None,
                str(report.value(res, SHN.resultMessage) or "does not conform"),
                val,
                kind,
                component[len(SH) :] if component.startswith(SH) else component,
            )
        )
    return sorted(found, key=lambda v: (v.focus, v.path or "", v.message, v.value or ""))


def _dangling_problem(corpus: Corpus, loc: Locator, node: str) -> Problem:
    """One line for a reference to something defined nowhere, with the closest defined names."""
    owner, via = loc.owner(node)
    f, line = loc.where(owner, None, via=via, value=node)
    base = node.rsplit("/", 1)[0] + "/"
    known = [i[len(base) :] for i in loc.home if i.startswith(base)]
    close = close_matches(node[len(base) :], known, n=2, cutoff=0.6)
    hint = f" (did you mean {', '.join(prefixed(base + c) for c in close)}?)" if close else ""
    steps = " / ".join(prefixed(p) for p in via)
    return Problem(
        f,
        line,
        loc.label(owner),
        f"{steps}: {prefixed(node)} is not defined anywhere{hint}: define it (sources go in "
        "claims/sources.ttl) or fix the name",
    )


def _short(text: str, limit: int = 80) -> str:
    """A value as a message shows it: long statements cut, so one line stays one line."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _KeepIds(dict):
    """A bnode context for rdflib's N-Triples parser that keeps the labels it is given."""

    def get(self, key, default=None):
        from rdflib import BNode

        return self.setdefault(key, BNode(key))


def _union_nt(corpus: Corpus) -> str:
    """All graphs' triples as N-Triples (SHACL sees the union)."""
    rows = corpus.store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    import pyoxigraph as ox

    return ox.serialize(rows, format=ox.RdfFormat.N_TRIPLES).decode()
