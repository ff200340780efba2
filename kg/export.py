"""Exports: the whole graph as Turtle, JSON-LD or N-Quads, and each claim's own description (the
claim with its parts, runs, reviews and measurements) for the site's downloads. Deterministic:
the same graph always gives the same bytes."""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox

from kg import ns
from kg.errors import UsageError
from kg.store import Corpus

FORMATS = ("turtle", "jsonld", "nquads")


def export(corpus: Corpus, fmt: str) -> str:
    """The corpus serialised in `fmt` (turtle, jsonld or nquads)."""
    if fmt == "nquads":
        lines = corpus.store.dump(format=ox.RdfFormat.N_QUADS).decode().splitlines()
        return "\n".join(sorted(lines)) + "\n"
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format '{fmt}': use one of {', '.join(FORMATS)}")
    import rdflib

    g = rdflib.Graph()
    nt = ox.serialize(
        corpus.store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"),
        format=ox.RdfFormat.N_TRIPLES,
    )
    g.parse(data=nt.decode(), format="nt")
    for prefix, iri in ns.PREFIXES.items():
        g.bind(prefix, iri, replace=True)
    if fmt == "turtle":
        return g.serialize(format="longturtle")
    context = {p: iri for p, iri in ns.PREFIXES.items()}
    return g.serialize(format="json-ld", context=context, indent=1, sort_keys=True)


def to_server(corpus: Corpus, url: str) -> int:
    """Make the dataset of the SPARQL server at `url` this corpus (claims, sources, records, one
    named graph per file, as loaded here); returns the number of quads sent."""
    from kg.sparqlstore import SparqlStore

    store = corpus.embedded
    SparqlStore(url).replace(store.dump(format=ox.RdfFormat.N_QUADS))
    return len(store)


def claim_graphs(corpus: Corpus, ids: list[str] | None = None) -> dict[str, list[ox.Triple]]:
    """For each claim id (or only for `ids`), the triples that describe it: the claim with its
    blank-node parts (appearances, conditions, check, rule), and its runs, reviews and
    measurements. Sorted. All claims are read in one pass over the store; a few are looked up."""
    if ids is not None:
        return {cid: _one_claim_graph(corpus, cid) for cid in sorted(ids)}
    by_subject: dict[object, set[ox.Triple]] = defaultdict(set)
    for q in corpus.store.quads_for_pattern(None, None, None, None):
        by_subject[q.subject].add(ox.Triple(q.subject, q.predicate, q.object))
    about = ox.NamedNode(ns.SCHEMA + "about")
    generated = ox.NamedNode(ns.PROV + "wasGeneratedBy")
    ident = ox.NamedNode(ns.SCHEMA + "identifier")
    children: dict[object, list[object]] = defaultdict(list)  # run -> its review and cells
    runs_of: dict[object, list[object]] = defaultdict(list)  # claim -> its runs
    for subject, triples in by_subject.items():
        for t in triples:
            if t.predicate == about:
                runs_of[t.object].append(subject)
            elif t.predicate == generated:
                children[t.object].append(subject)
    out = {}
    for kind_iri in ns.KINDS.values():
        typed = corpus.store.quads_for_pattern(
            None, ox.NamedNode(ns.RDF + "type"), ox.NamedNode(kind_iri)
        )
        for q in typed:
            ids = [t.object.value for t in by_subject[q.subject] if t.predicate == ident]
            if not ids:
                continue
            roots = [q.subject]
            for run in runs_of.get(q.subject, []):
                roots += [run, *children.get(run, [])]
            out[ids[0]] = sorted(_closure(roots, by_subject), key=str)
    return dict(sorted(out.items()))


def _one_claim_graph(corpus: Corpus, claim_id: str) -> list[ox.Triple]:
    """The same triples as claim_graphs gives one claim, found by pattern lookups."""
    store = corpus.store
    claim = ox.NamedNode(ns.CLAIM + claim_id)
    about = ox.NamedNode(ns.SCHEMA + "about")
    generated = ox.NamedNode(ns.PROV + "wasGeneratedBy")
    roots: list = [claim]
    for run in {q.subject for q in store.quads_for_pattern(None, about, claim)}:
        roots += [run, *{q.subject for q in store.quads_for_pattern(None, generated, run)}]
    return sorted(_closure(roots, _Lookup(store)), key=str)


class _Lookup(dict):
    """A node's triples, looked up in the store when asked for (a stand-in for by_subject)."""

    def __init__(self, store) -> None:
        super().__init__()
        self.store = store

    def get(self, node, default=()):
        return {ox.Triple(q.subject, q.predicate, q.object)
                for q in self.store.quads_for_pattern(node, None, None)}  # fmt: skip


def claim_nodes(corpus: Corpus, ids: list[str] | None = None) -> dict[str, ox.NamedNode]:
    """Each claim id (or only `ids`) with its IRI: the claims claim_graphs describes, sorted."""
    if ids is not None:
        return {cid: ox.NamedNode(ns.CLAIM + cid) for cid in sorted(ids)}
    ident = ox.NamedNode(ns.SCHEMA + "identifier")
    out = {}
    for kind_iri in ns.KINDS.values():
        typed = corpus.store.quads_for_pattern(
            None, ox.NamedNode(ns.RDF + "type"), ox.NamedNode(kind_iri)
        )
        for q in typed:
            for t in corpus.store.quads_for_pattern(q.subject, ident, None):
                out[t.object.value] = q.subject
                break
    return dict(sorted(out.items()))


def claim_parts(corpus: Corpus, claim: ox.NamedNode) -> list[ox.Triple]:
    """The claim's own triples, with its blank-node parts, but none of its runs'."""
    return sorted(_closure([claim], _Lookup(corpus.store)), key=str)


def claim_run_records(corpus: Corpus, claim: ox.NamedNode) -> list[tuple[str, list[str]]]:
    """Each run and exploration about the claim with the raw records it names, sorted."""
    store = corpus.store
    about = ox.NamedNode(ns.SCHEMA + "about")
    raw = ox.NamedNode(ns.FWC + "rawRecord")
    out = []
    for run in {q.subject for q in store.quads_for_pattern(None, about, claim)}:
        records = sorted(str(q.object.value) for q in store.quads_for_pattern(run, raw, None))
        out.append((str(run.value), records))
    return sorted(out)


RUN_TERMS = (
    "ASK { VALUES ?g { %s } GRAPH ?g { ?s ?p ?o }"
    ' FILTER(STRSTARTS(STR(?s), "%s") || (isIRI(?o) && STRSTARTS(STR(?o), "%s"))) }'
)


def runs_only_in_records(corpus: Corpus) -> bool:
    """Whether nothing but the run records' own graphs says anything about a run or its parts
    (no run:... IRI in any other graph), so each run's triples are what its record makes."""
    store = corpus.embedded
    if next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None):
        return False
    records = ns.graph_iri("data/results/")
    others = [g for g in store.named_graphs() if not str(g.value).startswith(records)]
    if not others:
        return True
    query = RUN_TERMS % (" ".join(str(g) for g in others), ns.RUN, ns.RUN)
    return not bool(store.query(query))


def _closure(roots: list, by_subject: dict) -> set:
    """The roots' triples plus those of every blank node reachable from them."""
    found: set = set()
    todo, seen = list(roots), set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for t in by_subject.get(node, ()):
            found.add(t)
            if isinstance(t.object, ox.BlankNode):
                todo.append(t.object)
    return found


def claim_documents(triples: list[ox.Triple]) -> tuple[bytes, bytes]:
    """A claim's description as Turtle and JSON-LD, with blank nodes relabelled canonically so
    the same graph always gives the same bytes."""
    ds = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    canon = sorted((ox.Triple(q.subject, q.predicate, q.object) for q in ds), key=str)
    ttl = ox.serialize(canon, format=ox.RdfFormat.TURTLE, prefixes=ns.PREFIXES).decode()
    head = sorted(line for line in ttl.splitlines() if line.startswith("@prefix"))
    body = [line for line in ttl.splitlines() if not line.startswith("@prefix")]
    turtle = "\n".join(head + body) + "\n"
    # Oxigraph writes expanded JSON-LD in the order of the (sorted) triples: already stable
    return turtle.encode(), ox.serialize(canon, format=ox.RdfFormat.JSON_LD) + b"\n"
