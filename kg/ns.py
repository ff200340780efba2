"""IRI strings of the project's namespaces and the id shapes IRIs are built from; importable
without rdflib (the fast start-up path)."""

import re
from urllib.parse import quote, unquote

BASE = "https://w3id.org/fwclaims/"
FWC = BASE + "ns#"
CLAIM = BASE + "claim/"
SRC = BASE + "source/"
BENCH = BASE + "benchmark/"
RUN = BASE + "run/"
ENV = BASE + "environment/"
GRAPH = BASE + "graph/"
SCHEMA = "http://schema.org/"
PROV = "http://www.w3.org/ns/prov#"
CITO = "http://purl.org/spar/cito/"
DCTERMS = "http://purl.org/dc/terms/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
BIBO = "http://purl.org/ontology/bibo/"  # authorList: the authors in their published order
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"

PREFIXES = {
    "fwc": FWC,
    "claim": CLAIM,
    "src": SRC,
    "bench": BENCH,
    "run": RUN,
    "env": ENV,
    "schema": SCHEMA,
    "prov": PROV,
    "cito": CITO,
    "dcterms": DCTERMS,
    "bibo": BIBO,
    "skos": SKOS,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
}

SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())

KINDS = {
    "performance": FWC + "PerformanceClaim",
    "capability": FWC + "CapabilityClaim",
    "adoption": FWC + "AdoptionClaim",
    "qualitative": FWC + "QualitativeClaim",
}

# Ids become IRIs; only ids of these shapes may (nothing else reaches an IRI or a query string).
CLAIM_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"  # claims, sources and benchmarks: kebab-case
FILE_ID = r"[A-Za-z0-9][A-Za-z0-9._-]*"  # run records and environments: their file names


def is_claim_id(text: object) -> bool:
    """Whether `text` has the shape of a claim (or source, or benchmark) id."""
    return isinstance(text, str) and len(text) <= 120 and re.fullmatch(CLAIM_ID, text) is not None


def is_file_id(text: object) -> bool:
    """Whether `text` has the shape of a record or environment id (a safe file name)."""
    return (
        isinstance(text, str)
        and len(text) <= 200
        and ".." not in text
        and re.fullmatch(FILE_ID, text) is not None
    )


KIND_OF = {iri: kind for kind, iri in KINDS.items()}  # claim class IRI -> kind


def graph_iri(rel_path: str) -> str:
    """The named-graph IRI of a file given by its path relative to the project folder; characters
    an IRI cannot hold (a space in a file name) are percent-encoded."""
    return GRAPH + quote(rel_path, safe="/")


def graph_path(iri: str) -> str:
    """The relative file path a named-graph IRI stands for (inverse of graph_iri)."""
    return unquote(iri[len(GRAPH) :]) if iri.startswith(GRAPH) else iri
