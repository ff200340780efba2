"""networkx views of the evidence graph, for questions a survey author asks of the corpus."""

from __future__ import annotations

import networkx as nx

from kg import api, queries
from kg.rows import PRIMARY_ROLES
from kg.store import Corpus


def _graph(corpus: Corpus) -> nx.DiGraph:
    return corpus.memoised("evidence_graph", lambda: queries.evidence_graph(corpus))


def single_secondary_claims(corpus: Corpus) -> list[str]:
    """Claims that appear in one secondary document only and rest on no primary source, directly
    or through the documents they appear in."""
    g = _graph(corpus)
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
    g.add_edges_from(api.contradiction_pairs(corpus))
    return sorted(sorted(c) for c in nx.connected_components(g))


def primary_in_degree(corpus: Corpus) -> dict[str, int]:
    """How many claims and documents point at each primary source, most cited first."""
    g = _graph(corpus)
    deg = {n: g.in_degree(n) for n, k in g.nodes(data="kind") if k in PRIMARY_ROLES}
    return dict(sorted(deg.items(), key=lambda kv: (-kv[1], kv[0])))
