"""Validate a loaded corpus: SHACL shapes (kg.shacl_fast, or pyshacl) plus checks that span files.

Every problem becomes one line naming the file and line, the claim id, the property and the fix.
"""

from __future__ import annotations

import json
import os

from kg import ns
from kg.errors import Problem, UsageError
from kg.locate import Locator, find_line, prefixed
from kg.paths import SHAPES_FILE
from kg.shacl_fast import Violation
from kg.store import Corpus, to_python
from kg.textutil import close_matches

SH = "http://www.w3.org/ns/shacl#"


def validate(corpus: Corpus) -> list[Problem]:
    """All problems in the corpus; an empty list means it is valid."""
    locator = Locator(corpus)
    problems = cross_file_problems(corpus, locator)
    problems += shacl_problems(corpus, locator)
    return sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.subject, p.message))


def cross_file_problems(corpus: Corpus, loc: Locator) -> list[Problem]:
    """Rules SHACL Core cannot state: unique ids and IRIs, JSON parameters, benchmark names."""
    problems: list[Problem] = []
    kinds = " ".join(f"<{k}>" for k in ns.KINDS.values())
    # The queries return only the claims with something to report, so a valid corpus of 10^4
    # claims costs two quick queries and no Python loop over every claim.
    rows = corpus.query(
        "SELECT ?c ?g WHERE { { SELECT ?c WHERE { GRAPH ?h { ?c a ?k . VALUES ?k { %s } } }"
        " GROUP BY ?c HAVING (COUNT(DISTINCT ?h) > 1) }"
        " GRAPH ?g { ?c a ?k2 . VALUES ?k2 { %s } } }" % (kinds, kinds)
    )
    by_iri: dict[str, set[str]] = {}
    for r in rows:
        by_iri.setdefault(r["c"], set()).add(r["g"])
    claim_ids = "GRAPH ?g { ?c a ?k . VALUES ?k { %s } ?c schema:identifier ?id }" % kinds
    rows = corpus.query(
        "SELECT DISTINCT ?c ?id WHERE {"
        " { { SELECT ?id WHERE { %s } GROUP BY ?id HAVING (COUNT(DISTINCT ?c) > 1) } %s }"
        ' UNION { %s FILTER(!isIRI(?c) || STR(?c) != CONCAT("%s", STR(?id))) }'
        ' FILTER(STR(?id) != "") }' % (claim_ids, claim_ids, claim_ids, ns.CLAIM)
    )
    by_id: dict[str, set[str]] = {}
    for r in rows:
        by_id.setdefault(r["id"], set()).add(r["c"])
    for iri, graphs in by_iri.items():
        if len(graphs) > 1:
            files = sorted(g[len(ns.GRAPH) :] for g in graphs)
            for g in files:
                f = corpus.root / g
                problems.append(
                    Problem(
                        g,
                        find_line(f, iri),
                        loc.label(iri),
                        f"is defined in {len(files)} files ({', '.join(files)}): keep one definition",
                    )
                )
    for ident, iris in by_id.items():
        if len(iris) > 1:
            for iri in sorted(iris):
                f, line = loc.where(iri)
                others = ", ".join(sorted(i for i in iris if i != iri))
                problems.append(
                    Problem(
                        f,
                        line,
                        f"claim '{ident}'",
                        f"id is also used by {others}: ids must be unique",
                    )
                )
        for iri in iris:
            if iri != ns.CLAIM + ident:
                f, line = loc.where(iri)
                problems.append(
                    Problem(
                        f,
                        line,
                        f"claim '{ident}'",
                        f"IRI must be claim:{ident} (built from its id), not {prefixed(iri)}",
                    )
                )
    problems += _check_problems(corpus, loc)
    return problems


def _check_problems(corpus: Corpus, loc: Locator) -> list[Problem]:
    benches = corpus.query(
        "SELECT ?b ?id ?p WHERE { ?b schema:identifier ?id . "
        "{ ?b a fwc:Benchmark } UNION { ?b a fwc:Probe } UNION { ?b a fwc:DataCheck } "
        "OPTIONAL { ?b fwc:parameterName ?p } }"
    )
    allowed: dict[str, set[str]] = {}
    for r in benches:
        allowed.setdefault(r["b"], set())
        if r["p"]:
            allowed[r["b"]].add(r["p"])
    known_ids = sorted(b[len(ns.BENCH) :] for b in allowed)
    rows = corpus.store.query(
        ns.SPARQL_PREFIXES + "SELECT ?c ?b ?params WHERE { ?c fwc:checkedBy ?k ."
        " OPTIONAL { ?k fwc:benchmark ?b } OPTIONAL { ?k fwc:parameters ?params } }",
        use_default_graph_as_union=True,
    )
    # Many checks share a benchmark and parameters: judge each pair once, and locate a claim
    # (a file scan) only when its pair has something to report.
    findings: dict[tuple, list[tuple[str, str]]] = {}
    problems = []
    for sol in rows:
        key = (sol["b"], sol["params"])
        if key not in findings:
            findings[key] = _check_findings(
                to_python(key[0]), to_python(key[1]), allowed, known_ids
            )
        if findings[key]:
            c = to_python(sol["c"])
            f, _ = loc.where(c)
            for prop, message in findings[key]:
                problems.append(
                    Problem(f, find_line(corpus.root / f, c, prop), loc.label(c), message)
                )
    return problems


def _check_findings(
    b: str | None, raw_params, allowed: dict[str, set[str]], known_ids: list[str]
) -> list[tuple[str, str]]:
    """What is wrong with one (benchmark, parameters) pair, as (property, message) pairs."""
    out = []
    if b and b not in allowed:
        name = b[len(ns.BENCH) :] if b.startswith(ns.BENCH) else b
        close = close_matches(name, known_ids, n=2, cutoff=0.6)
        hint = f" (did you mean {', '.join('bench:' + c for c in close)}?)" if close else ""
        out.append(
            (
                ns.FWC + "benchmark",
                f"fwc:benchmark names unknown benchmark '{name}'{hint}:"
                f" use one defined in claims/benchmarks.ttl ({', '.join(known_ids)})",
            )
        )
    if raw_params is None:
        return out
    at = ns.FWC + "parameters"
    try:
        params = json.loads(raw_params)
    except json.JSONDecodeError as e:
        out.append(
            (
                at,
                f"fwc:parameters is not valid JSON ({e.msg} at "
                f'character {e.pos}): write a JSON object like {{"batch_sizes": [1, 8]}}',
            )
        )
        return out
    if not isinstance(params, dict):
        out.append((at, "fwc:parameters must be a JSON object {...}"))
    elif b in allowed:
        unknown = sorted(set(params) - allowed[b])
        if unknown:
            out.append(
                (
                    at,
                    f"fwc:parameters has {', '.join(map(repr, unknown))}, which "
                    f"bench:{b[len(ns.BENCH) :]} does not take: use "
                    f"{', '.join(sorted(allowed[b])) or 'no parameters'}",
                )
            )
    return out


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
        f, line = loc.where(owner, via[0] if via else v.path)
        steps = [prefixed(p) for p in via]
        if v.path is not None:
            steps.append(prefixed(v.path))
        detail = f"{' / '.join(steps)}: " if steps else ""
        got = ""
        if v.value is not None and v.value_kind != "bnode":
            got = f" (found {prefixed(v.value) if v.value_kind == 'iri' else repr(v.value)})"
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
    f, line = loc.where(owner, via[0] if via else None)
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
