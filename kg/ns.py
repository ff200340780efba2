"""IRI strings of the project's namespaces, importable without rdflib (the fast start-up path)."""

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
