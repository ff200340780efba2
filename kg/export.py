"""Exports of the whole graph: Turtle, JSON-LD and N-Quads, deterministic for diffing."""

from __future__ import annotations

import pyoxigraph as ox

from kg import ns
from kg.errors import UsageError
from kg.load import Corpus

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
