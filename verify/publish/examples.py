"""Example SPARQL queries for the site's query page: each one runs against the published graph
(a test holds every one to returning rows on the committed data), with the prefixes the
endpoint knows (fwc:, schema:, prov:, skos:, ...)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """A query with a title and a sentence saying what it answers."""

    id: str
    title: str
    what: str
    query: str


EXAMPLES = (
    Example(
        "claims", "Every claim, as schema.org sees it",
        "Claims are typed with their fwc: class and with schema:Claim, so a schema.org reader finds"
        " them all.",
        "SELECT ?id ?text WHERE {\n  ?c a schema:Claim ; schema:identifier ?id ; schema:text ?text .\n}"
        "\nORDER BY ?id\nLIMIT 20",
    ),
    Example(
        "categories", "How many claims each category holds",
        "Categories are SKOS concepts; this counts the claims in each.",
        "SELECT ?category (COUNT(?c) AS ?claims) WHERE {\n  ?c a schema:Claim ; fwc:category ?cat .\n"
        "  ?cat skos:notation ?category .\n}\nGROUP BY ?category\nORDER BY DESC(?claims) ?category",
    ),
    Example(
        "verdicts", "The newest verdicts",
        "Each run is a prov:Activity whose schema:ClaimReview carries the verdict concept.",
        "SELECT ?claim ?verdict ?ended WHERE {\n  ?run a fwc:Run ; schema:about ?c ;"
        " prov:endedAtTime ?ended .\n  ?c schema:identifier ?claim .\n"
        "  ?review prov:wasGeneratedBy ?run ; fwc:verdict ?v .\n  ?v skos:notation ?verdict .\n}"
        "\nORDER BY DESC(?ended) ?claim\nLIMIT 20",
    ),
    Example(
        "sources", "Where each claim appears",
        "An appearance ties a claim to the document it is stated in, with a locator.",
        "SELECT ?id ?source WHERE {\n  ?c a schema:Claim ; schema:identifier ?id ;"
        " schema:appearance ?a .\n  ?a schema:isPartOf ?doc .\n  ?doc schema:name ?source .\n}"
        "\nORDER BY ?id ?source\nLIMIT 20",
    ),
    Example(
        "contradictions", "Claims that contradict each other",
        "fwc:contradicts links claims that cannot both hold.",
        "SELECT ?claim ?other WHERE {\n  ?c fwc:contradicts ?o .\n  ?c schema:identifier ?claim .\n"
        "  ?o schema:identifier ?other .\n}\nORDER BY ?claim ?other",
    ),
)  # fmt: skip
