"""networkx views of the evidence graph, for questions a survey author asks of the corpus."""

from __future__ import annotations

import networkx as nx

from kg import api
from kg.load import Corpus

PRIMARY_ROLES = {"primary-study", "dataset", "documentation"}


def evidence_graph(corpus: Corpus) -> nx.DiGraph:
    """Claims and sources as nodes; appears-in, rests-on, cites and reviews as edges."""
    g = nx.DiGraph()
    for e in api.citation_edges(corpus):
        g.add_node(e["from"], kind=e["fromKind"])
        g.add_node(e["to"], kind=e["toKind"])
        g.add_edge(e["from"], e["to"], rel=e["rel"])
    for row in api.list_claims(corpus):
        g.add_node(row["id"], kind="claim")
    return g


def citation_chains(corpus: Corpus, claim_id: str) -> list[list[str]]:
    """Every path from a claim to a primary source (study, data set, documentation): the chain
    survey article -> survey -> primary study, or a direct rests-on link."""
    c = api.claim(corpus, claim_id)  # raises UnknownClaim with suggestions
    g = evidence_graph(corpus)
    # A document cites many studies; only those the claim itself rests on end its chains.
    named = {d["id"] for d in c["derived_from"]}
    targets = sorted(named) or [n for n, k in g.nodes(data="kind") if k in PRIMARY_ROLES]
    chains = []
    for t in targets:
        chains.extend(nx.all_simple_paths(g, claim_id, t, cutoff=4))
    return sorted(chains, key=lambda p: (len(p), p))


def single_secondary_claims(corpus: Corpus) -> list[str]:
    """Claims that appear in one secondary document only and rest on no primary source, directly
    or through the documents they appear in."""
    g = evidence_graph(corpus)
    out = []
    for n, kind in g.nodes(data="kind"):
        if kind != "claim":
            continue
        docs = [d for d in g.successors(n) if g.edges[n, d]["rel"] == "appears-in"]
        direct = [d for d in g.successors(n) if g.edges[n, d]["rel"] == "rests-on"]
        if len(docs) == 1 and not direct:
            reach = nx.descendants(g, docs[0])
            if not any(g.nodes[r]["kind"] in PRIMARY_ROLES for r in reach):
                out.append(n)
    return sorted(out)


def contradiction_groups(corpus: Corpus) -> list[list[str]]:
    """Groups of claims that contradict one another (connected components of fwc:contradicts)."""
    g = nx.Graph()
    g.add_edges_from((p["a"], p["b"]) for p in api.contradiction_pairs(corpus))
    return sorted(sorted(c) for c in nx.connected_components(g))


def primary_in_degree(corpus: Corpus) -> dict[str, int]:
    """How many claims and documents point at each primary source, most cited first."""
    g = evidence_graph(corpus)
    deg = {n: g.in_degree(n) for n, k in g.nodes(data="kind") if k in PRIMARY_ROLES}
    return dict(sorted(deg.items(), key=lambda kv: (-kv[1], kv[0])))
