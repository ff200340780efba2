"""The named queries of claims and sources: each row shape of the read API is fetched by one query
written once here, for every claim at once (memoised on the corpus) or for a few claims (the same
query with a VALUES block). kg.api answers single items by calling these with one id. The queries
of runs, their measurements and environments are in kg.runqueries.

No property paths below: over a union graph of many named graphs (one per run record) Oxigraph
evaluated paths such as fwc:role/skos:notation 50-100x slower than the plain joins; concepts are
mapped to their notations in Python instead.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kg import ns
from kg.model import MAIN_CHECK, Check, CheckType, Combine, Kind, Rule
from kg.rows import (
    PRIMARY_ROLES,
    Appearance,
    CitationEdge,
    Claim,
    SourceRef,
)
from kg.store import Corpus, values_block

if TYPE_CHECKING:  # networkx loads only for the citation chains (0.1 s off every command's start)
    import networkx as nx

KIND_VALUES = " ".join(f"<{iri}>" for iri in ns.KINDS.values())
BENCH_TYPES = {"Benchmark": CheckType.BENCHMARK, "Probe": CheckType.PROBE,
               "DataCheck": CheckType.DATACHECK}  # fmt: skip


def short(iri: str | None, base: str = ns.FWC) -> str | None:
    """An IRI without its namespace (fwc:category -> 'category')."""
    return iri[len(base) :] if iri and iri.startswith(base) else iri


def notations(corpus: Corpus) -> dict[str, str]:
    """Every SKOS concept IRI -> its notation (roles, categories, devices, verdicts...)."""
    return corpus.memoised(
        "notations",
        lambda: {
            r["c"]: r["n"] for r in corpus.query("SELECT ?c ?n WHERE { ?c skos:notation ?n }")
        },
    )


def _scope(ids: Iterable[str] | None) -> str:
    """A VALUES block restricting ?c to some claims, or '' for every claim."""
    return "" if ids is None else values_block("c", [ns.CLAIM + i for i in ids])


def claim_details(corpus: Corpus, ids: list[str] | None = None) -> dict[str, Claim]:
    """Every claim (or the claims with these ids) with all its parts, keyed by id, ids sorted."""
    if ids is None:
        return corpus.memoised("claim_details", lambda: _claim_details(corpus, None))
    return _claim_details(corpus, ids)


def _claim_details(corpus: Corpus, ids: list[str] | None) -> dict[str, Claim]:
    notation, scope = notations(corpus), _scope(ids)
    base = corpus.query(
        """SELECT ?c ?id ?k ?text ?cat ?fav ?restsOn ?why ?combine WHERE { %s
             ?c a ?k ; schema:identifier ?id ; schema:text ?text ; fwc:category ?cat .
             VALUES ?k { %s }
             OPTIONAL { ?c fwc:favours ?fav } OPTIONAL { ?c fwc:restsOn ?restsOn }
             OPTIONAL { ?c fwc:notCheckableBecause ?why } OPTIONAL { ?c fwc:combine ?combine } }"""
        % (scope, KIND_VALUES)
    )
    rows: dict[str, dict[str, Any]] = {}
    for r in sorted(base, key=lambda r: r["id"]):
        rows.setdefault(r["id"], {"row": r, "appearances": [], "derived": [], "conditions": {},
                                  "contradicts": set()})  # fmt: skip
    _appearances(corpus, scope, notation, rows)
    _derived(corpus, scope, notation, rows)
    for r in corpus.query(
        """SELECT ?id ?p ?v WHERE { %s ?c fwc:condition ?k ; schema:identifier ?id .
             ?k ?p ?v . FILTER(?p != rdf:type) }"""
        % scope
    ):
        if r["id"] in rows:
            rows[r["id"]]["conditions"][short(r["p"])] = notation.get(r["v"], r["v"])
    for r in corpus.query(
        """SELECT DISTINCT ?a ?b WHERE { ?x fwc:contradicts ?y .
             ?x schema:identifier ?a . ?y schema:identifier ?b }"""
    ):
        for one, other in ((r["a"], r["b"]), (r["b"], r["a"])):
            if one in rows:
                rows[one]["contradicts"].add(other)
    checks = _checks(corpus, scope, notation)
    return {cid: _claim(cid, parts, notation, checks.get(cid)) for cid, parts in rows.items()}


def _claim(
    cid: str, parts: dict[str, Any], notation: dict[str, str], checks: list[dict[str, Any]] | None
) -> Claim:
    r = parts["row"]
    kind = Kind(ns.KIND_OF[r["k"]])
    conditions = dict(sorted(parts["conditions"].items()))
    return Claim(
        id=cid,
        iri=r["c"],
        kind=kind,
        category=notation.get(r["cat"], r["cat"]),
        text=r["text"],
        favours=r["fav"],
        rests_on=r["restsOn"],
        not_checkable_because=r["why"],
        appearances=parts["appearances"],
        derived_from=parts["derived"],
        conditions=conditions,
        checks=[Check(claim_id=cid, kind=kind, conditions=conditions, **c) for c in checks or []],
        contradicts=sorted(parts["contradicts"]),
        combine=Combine(r["combine"]) if r["combine"] in ("all", "any") else Combine.ALL,
    )


def _appearances(
    corpus: Corpus, scope: str, notation: dict[str, str], rows: dict[str, Any]
) -> None:
    found = corpus.query(
        """SELECT ?id ?doc ?docName ?role ?locator ?wording WHERE { %s
             ?c schema:appearance ?a ; schema:identifier ?id .
             ?a schema:isPartOf ?d ; fwc:locator ?locator .
             ?d schema:identifier ?doc ; schema:name ?docName ; fwc:role ?role .
             OPTIONAL { ?a fwc:wording ?wording } }"""
        % scope
    )
    for r in sorted(found, key=lambda r: (r["id"], r["doc"], r["locator"], r["wording"] or "")):
        if r["id"] in rows:
            rows[r["id"]]["appearances"].append(
                Appearance(
                    r["doc"],
                    r["docName"],
                    notation.get(r["role"], r["role"]),
                    r["locator"],
                    r["wording"],
                )  # fmt: skip
            )


def _derived(corpus: Corpus, scope: str, notation: dict[str, str], rows: dict[str, Any]) -> None:
    found = corpus.query(
        """SELECT ?cid ?id ?name ?role ?url ?date WHERE { %s
             ?c prov:wasDerivedFrom ?s ; schema:identifier ?cid .
             ?s schema:identifier ?id ; schema:name ?name ; fwc:role ?role .
             OPTIONAL { ?s schema:sameAs ?url } OPTIONAL { ?s schema:url ?url }
             OPTIONAL { ?s schema:datePublished ?date } }"""
        % scope
    )
    seen: set[tuple[str, str]] = set()
    for r in sorted(found, key=lambda r: (r["cid"], r["id"], r["url"] or "")):
        if r["cid"] in rows and (r["cid"], r["id"]) not in seen:
            seen.add((r["cid"], r["id"]))
            rows[r["cid"]]["derived"].append(
                SourceRef(
                    r["id"], r["name"], notation.get(r["role"], r["role"]), r["url"], r["date"]
                )
            )


def _checks(
    corpus: Corpus, scope: str, notation: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    # Benchmarks, concepts and checks are fetched apart and joined here: one query with the
    # property path fwc:quantifier/skos:notation took minutes on 10^4 claims.
    rows = corpus.query(
        """SELECT ?id ?k ?b ?params ?metric ?better ?subject ?baseline ?threshold ?tolerance ?q
                  ?checkId ?standsIn WHERE { %s
             ?c fwc:checkedBy ?k ; schema:identifier ?id . ?k fwc:benchmark ?b ; fwc:rule ?r .
             ?r fwc:metric ?metric ; fwc:better ?better ; fwc:subject ?subject ;
                fwc:threshold ?threshold ; fwc:tolerance ?tolerance ; fwc:quantifier ?q .
             OPTIONAL { ?k fwc:parameters ?params } OPTIONAL { ?k fwc:checkId ?checkId }
             OPTIONAL { ?k fwc:standsIn ?standsIn }
             OPTIONAL { ?r fwc:baseline ?baseline } } ORDER BY ?id"""
        % scope
    )
    benches = {r["b"]: r for r in corpus.query(
        """SELECT ?b ?bench ?module ?btype WHERE {
             ?b a ?btype ; schema:identifier ?bench ; fwc:module ?module .
             VALUES ?btype { fwc:Benchmark fwc:Probe fwc:DataCheck } }""")}  # fmt: skip
    found: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)  # claim -> check node -> check
    for r in rows:
        b = benches.get(r["b"])
        if b is None or r["q"] not in notation:
            continue
        rule = {k: r[k] for k in ("metric", "better", "subject", "baseline", "threshold",
                                  "tolerance")}  # fmt: skip
        found[r["id"]].setdefault(r["k"], {
            "benchmark": b["bench"], "module": b["module"],
            "benchmark_type": BENCH_TYPES[short(b["btype"]) or ""],
            "parameters": json.loads(r["params"]) if r["params"] else {},
            "rule": Rule.from_dict({**rule, "quantifier": notation[r["q"]]}),
            "check_id": r["checkId"] or MAIN_CHECK, "stands_in": r["standsIn"]})  # fmt: skip
    order = lambda c: (c["check_id"] != MAIN_CHECK, c["check_id"])  # noqa: E731 (main first)
    return {cid: sorted(by_node.values(), key=order) for cid, by_node in found.items()}


def citation_edges(corpus: Corpus) -> list[CitationEdge]:
    """Edges of the evidence graph (claim -> document, document -> document), sorted."""
    return corpus.memoised("citation_edges", lambda: _citation_edges(corpus))


def _citation_edges(corpus: Corpus) -> list[CitationEdge]:
    notation = notations(corpus)
    ident = {
        r["x"]: r["id"] for r in corpus.query("SELECT ?x ?id WHERE { ?x schema:identifier ?id }")
    }
    role = {
        r["x"]: notation.get(r["r"], r["r"])
        for r in corpus.query("SELECT ?x ?r WHERE { ?x fwc:role ?r }")
    }
    patterns = {
        "appears-in": "?a schema:appearance ?x . ?x schema:isPartOf ?b",
        "rests-on": "?a prov:wasDerivedFrom ?b",
        "cites": "?a cito:citesAsEvidence ?b",
        "reviews": "?a cito:reviews ?b",
    }
    out = set()
    for rel, pattern in patterns.items():
        for r in corpus.query("SELECT DISTINCT ?a ?b WHERE { %s }" % pattern):
            a, b = r["a"], r["b"]
            if a in ident and b in ident and b in role:
                out.add(CitationEdge(ident[a], role.get(a, "claim"), ident[b], role[b], rel))
    return sorted(out, key=lambda e: (e.source, e.rel, e.target))


def evidence_graph(corpus: Corpus) -> nx.DiGraph[str]:
    """Claims and sources as nodes; appears-in, rests-on, cites and reviews as edges."""
    import networkx as nx

    g: nx.DiGraph[str] = nx.DiGraph()
    for e in citation_edges(corpus):
        g.add_node(e.source, kind=e.source_kind)
        g.add_node(e.target, kind=e.target_kind)
        g.add_edge(e.source, e.target, rel=e.rel)
    for cid in claim_details(corpus):
        if cid not in g:
            g.add_node(cid, kind="claim")
    return g


def citation_chains(corpus: Corpus, ids: list[str] | None = None) -> dict[str, list[list[str]]]:
    """For each claim, every path to a primary source (study, data set, documentation): the chain
    survey article -> survey -> primary study, or a direct rests-on link, shortest first.

    A document cites many studies; when the claim itself names what it rests on, only those end
    its chains."""
    import networkx as nx

    details = claim_details(corpus)
    g = corpus.memoised("evidence_graph", lambda: evidence_graph(corpus))
    kinds = nx.get_node_attributes(g, "kind")
    primary = sorted(n for n, k in kinds.items() if k in PRIMARY_ROLES)
    out: dict[str, list[list[str]]] = {}
    for cid in details if ids is None else ids:
        named = sorted({d.id for d in details[cid].derived_from})
        targets = [t for t in (named or primary) if t in g and t != cid]
        paths = nx.all_simple_paths(g, cid, targets, cutoff=4) if targets else []
        out[cid] = sorted((list(p) for p in paths), key=lambda p: (len(p), p))
    return out
