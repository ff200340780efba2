"""The one read API: named queries over the corpus that return plain rows (dicts of str/float/int).

The CLI, the site and the server read the graph only through these functions.
"""

from __future__ import annotations

from typing import Any

from kg import ns
from kg.errors import UnknownClaim, UnknownSource
from kg.load import Corpus

KIND_OF = {iri: kind for kind, iri in ns.KINDS.items()}
_KIND_VALUES = " ".join(f"<{iri}>" for iri in ns.KINDS.values())


def _short(iri: str | None, base: str = ns.FWC) -> str | None:
    return iri[len(base) :] if iri and iri.startswith(base) else iri


def claim_ids(corpus: Corpus) -> list[str]:
    """Every claim id, sorted."""
    rows = corpus.query(
        "SELECT ?id WHERE { ?c a ?k ; schema:identifier ?id . VALUES ?k { %s } }" % _KIND_VALUES
    )
    return sorted({r["id"] for r in rows})


def list_claims(corpus: Corpus, category: str | None = None, kind: str | None = None) -> list[dict]:
    """One row per claim: id, kind, category, text, favours, check, appearances, sources.

    Filters run inside the query. Two flat queries merged here beat one GROUP BY query several
    times over at 10^4 claims; the unfiltered listing is memoised on the (immutable) corpus."""
    key = ("list_claims", category, kind)
    if key in corpus.memo:
        return corpus.memo[key]
    kinds = f"<{ns.KINDS[kind]}>" if kind in ns.KINDS else _KIND_VALUES
    if kind is not None and kind not in ns.KINDS:
        return []
    cat_filter = "?cat skos:notation ?catLabel ."
    bind = {"catLabel": category} if category is not None else {}
    rows = corpus.query(
        """SELECT ?c ?id ?k ?text ?catLabel ?fav ?bench WHERE {
             %s ?c fwc:category ?cat .
             ?c a ?k . VALUES ?k { %s }
             ?c schema:identifier ?id ; schema:text ?text .
             OPTIONAL { ?c fwc:favours ?fav }
             OPTIONAL { ?c fwc:checkedBy/fwc:benchmark ?bench } }"""
        % (cat_filter, kinds),
        **bind,
    )
    docs: dict[str, list[str]] = {}
    apps: dict[str, int] = {}
    scope = "" if category is None else "?c fwc:category ?cat . %s" % cat_filter
    for r in corpus.query(
        "SELECT ?c ?a ?doc WHERE { %s ?c schema:appearance ?a . ?a schema:isPartOf ?doc }" % scope,
        **bind,
    ):
        docs.setdefault(r["c"], []).append(r["doc"][len(ns.SRC) :])
        apps[r["c"]] = apps.get(r["c"], 0) + 1
    out = [
        {
            "id": r["id"],
            "kind": KIND_OF[r["k"]],
            "category": r["catLabel"],
            "text": r["text"],
            "favours": r["fav"],
            "check": r["bench"][len(ns.BENCH) :] if r["bench"] else None,
            "checkable": r["bench"] is not None,
            "appearances": apps.get(r["c"], 0),
            "documents": sorted(set(docs.get(r["c"], []))),
        }
        for r in rows
    ]
    out.sort(key=lambda row: (row["category"], row["id"]))
    corpus.memo[key] = out
    return out


def categories(corpus: Corpus) -> list[dict]:
    """The category concepts: notation, label, definition."""
    return _concepts(corpus, "categories")


def verdict_labels(corpus: Corpus) -> list[dict]:
    """The verdict concepts: notation, label, definition."""
    return _concepts(corpus, "verdicts")


def _concepts(corpus: Corpus, scheme: str) -> list[dict]:
    return corpus.query(
        """SELECT ?notation ?label ?definition WHERE {
             ?c skos:inScheme ?scheme ; skos:notation ?notation ; skos:prefLabel ?label ;
                skos:definition ?definition } ORDER BY ?notation""",
        scheme=ns.FWC + scheme,
    )


def _require(corpus: Corpus, claim_id: str) -> str:
    iri = ns.CLAIM + claim_id
    # ids are kebab-case; anything else cannot name a claim and must not reach a query string
    if not _safe_id(claim_id) or not corpus.ask("ASK { <%s> schema:identifier ?id }" % iri):
        raise UnknownClaim(claim_id, claim_ids(corpus))
    return iri


def _safe_id(claim_id: str) -> bool:
    return all(ch.isalnum() or ch == "-" for ch in claim_id) and bool(claim_id)


def claim(corpus: Corpus, claim_id: str) -> dict:
    """Everything about one claim: statement, appearances, sources, conditions, check, links."""
    iri = _require(corpus, claim_id)
    base = corpus.query(
        """SELECT ?k ?text ?catLabel ?fav ?restsOn ?why WHERE {
             ?c a ?k ; schema:text ?text ; fwc:category/skos:notation ?catLabel .
             VALUES ?k { %s }
             OPTIONAL { ?c fwc:favours ?fav } OPTIONAL { ?c fwc:restsOn ?restsOn }
             OPTIONAL { ?c fwc:notCheckableBecause ?why } }"""
        % _KIND_VALUES,
        c=iri,
    )[0]
    appearances = corpus.query(
        """SELECT ?doc ?docName ?role ?locator ?wording WHERE {
             ?c schema:appearance ?a . ?a schema:isPartOf ?d ; fwc:locator ?locator .
             ?d schema:identifier ?doc ; schema:name ?docName ; fwc:role/skos:notation ?role .
             OPTIONAL { ?a fwc:wording ?wording } } ORDER BY ?doc""",
        c=iri,
    )
    derived = corpus.query(
        """SELECT ?id ?name ?role ?url ?date WHERE {
             ?c prov:wasDerivedFrom ?s . ?s schema:identifier ?id ; schema:name ?name ;
             fwc:role/skos:notation ?role .
             OPTIONAL { ?s schema:sameAs ?url } OPTIONAL { ?s schema:url ?url }
             OPTIONAL { ?s schema:datePublished ?date } } ORDER BY ?id""",
        c=iri,
    )
    contradicts = corpus.query(
        """SELECT DISTINCT ?id WHERE { { ?c fwc:contradicts ?o } UNION { ?o fwc:contradicts ?c }
             ?o schema:identifier ?id } ORDER BY ?id""",
        c=iri,
    )
    return {
        "id": claim_id,
        "iri": iri,
        "kind": KIND_OF[base["k"]],
        "category": base["catLabel"],
        "text": base["text"],
        "favours": base["fav"],
        "rests_on": base["restsOn"],
        "not_checkable_because": base["why"],
        "appearances": appearances,
        "derived_from": _dedupe(derived, "id"),
        "conditions": conditions(corpus, iri),
        "check": _check(corpus, iri),
        "contradicts": [r["id"] for r in contradicts],
    }


def _dedupe(rows: list[dict], key: str) -> list[dict]:
    seen: dict[Any, dict] = {}
    for r in rows:
        seen.setdefault(r[key], r)
    return list(seen.values())


def conditions(corpus: Corpus, iri: str) -> dict:
    """A claim's conditions as {name: value}; concept values as their notation."""
    rows = corpus.query(
        """SELECT ?p ?v ?notation WHERE { ?c fwc:condition ?k . ?k ?p ?v .
             FILTER(?p != rdf:type) OPTIONAL { ?v skos:notation ?notation } }""",
        c=iri,
    )
    return {_short(r["p"]): r["notation"] or r["v"] for r in rows}


def _check(corpus: Corpus, iri: str) -> dict | None:
    """A claim's check (benchmark, module, type, parameters, rule), from one bulk query over all
    checks that is memoised on the corpus."""
    from kg.site_queries import _checks, notations

    if "checks" not in corpus.memo:
        corpus.memo["checks"] = _checks(corpus, notations(corpus))
    return corpus.memo["checks"].get(iri[len(ns.CLAIM) :])


def claim_check(corpus: Corpus, claim_id: str) -> dict | None:
    """What `verify run` needs: the claim's check, kind and conditions (None if it has no check)."""
    iri = _require(corpus, claim_id)
    check = _check(corpus, iri)
    if check is None:
        return None
    kind = corpus.query("SELECT ?k WHERE { ?c a ?k VALUES ?k { %s } }" % _KIND_VALUES, c=iri)
    return {
        "claim_id": claim_id,
        "kind": KIND_OF[kind[0]["k"]],
        **check,
        "conditions": conditions(corpus, iri),
    }


def checkable_claim_ids(corpus: Corpus) -> list[str]:
    """Ids of the claims that carry a check."""
    rows = corpus.query("SELECT DISTINCT ?id WHERE { ?c fwc:checkedBy ?k ; schema:identifier ?id }")
    return sorted(r["id"] for r in rows)


def sources(corpus: Corpus) -> list[dict]:
    """Every source: id, name, role, date, url, and how many claims appear in or rest on it."""
    rows = corpus.query(
        """SELECT ?id ?name ?role ?date ?url
                  (COUNT(DISTINCT ?ca) AS ?appears) (COUNT(DISTINCT ?cd) AS ?supports) WHERE {
             ?s fwc:role/skos:notation ?role ; schema:identifier ?id ; schema:name ?name .
             OPTIONAL { ?s schema:datePublished ?date }
             OPTIONAL { { ?s schema:sameAs ?url } UNION { ?s schema:url ?url } }
             OPTIONAL { ?ca schema:appearance/schema:isPartOf ?s }
             OPTIONAL { ?cd prov:wasDerivedFrom ?s }
           } GROUP BY ?id ?name ?role ?date ?url ORDER BY ?role ?id"""
    )
    return _dedupe(rows, "id")


def source(corpus: Corpus, source_id: str) -> dict:
    """One source with the claims that appear in it or rest on it."""
    match = [s for s in sources(corpus) if s["id"] == source_id]
    if not match:
        raise UnknownSource(source_id, [s["id"] for s in sources(corpus)])
    iri = ns.SRC + source_id
    rows = corpus.query(
        """SELECT DISTINCT ?id ?how WHERE {
             { ?c schema:appearance/schema:isPartOf ?s . BIND("appears" AS ?how) }
             UNION { ?c prov:wasDerivedFrom ?s . BIND("rests-on" AS ?how) }
             ?c schema:identifier ?id } ORDER BY ?id""",
        s=iri,
    )
    return {**match[0], "claims": rows}


def benchmarks(corpus: Corpus) -> list[dict]:
    """Every benchmark, probe and data check with its module and parameter names."""
    rows = corpus.query(
        """SELECT ?id ?label ?type ?module (GROUP_CONCAT(?p; separator=" ") AS ?params) WHERE {
             ?b a ?type ; schema:identifier ?id ; rdfs:label ?label ; fwc:module ?module .
             VALUES ?type { fwc:Benchmark fwc:Probe fwc:DataCheck }
             OPTIONAL { ?b fwc:parameterName ?p } } GROUP BY ?id ?label ?type ?module ORDER BY ?id"""
    )
    for r in rows:
        r["type"] = _short(r["type"])
        r["params"] = sorted(r["params"].split()) if r["params"] else []
    return rows


def citation_edges(corpus: Corpus) -> list[dict]:
    """Edges of the evidence graph: claim -> document it appears in / study it rests on, and
    document -> document it cites or reviews. Nodes are ids; kinds say claim or source role."""
    from kg.site_queries import citation_edges as edges

    return edges(corpus)


def contradiction_pairs(corpus: Corpus) -> list[dict]:
    """Pairs of claims linked by fwc:contradicts, each pair once."""
    rows = corpus.query(
        """SELECT ?a ?b WHERE { ?x fwc:contradicts ?y .
             ?x schema:identifier ?a . ?y schema:identifier ?b }"""
    )
    pairs = sorted({tuple(sorted((r["a"], r["b"]))) for r in rows})
    return [{"a": a, "b": b} for a, b in pairs]


# Run records: named queries kept in kg.runs, part of this API.
from kg.runs import environments, latest_verdicts, measurements, runs  # noqa: E402,F401


def evidence(corpus: Corpus, claim_id: str | None = None) -> list[dict]:
    """Published measurements (a primary source's own numbers, not our runs), optionally only those
    bearing on one claim: what was measured, value and unit, framework, hardware, conditions,
    source and the claims each bears on."""
    where = ""
    if claim_id is not None:
        where = "?m fwc:bearsOn <%s> ." % _require(corpus, claim_id)
    rows = corpus.query(
        """SELECT ?m ?name ?description ?metric ?value ?unit ?technique ?framework ?version
                  ?hardware ?device ?phase ?model ?batch ?input ?date ?source ?url
                  (GROUP_CONCAT(DISTINCT ?cid; separator=" ") AS ?claims) WHERE {
             ?m a fwc:Measurement ; prov:hadPrimarySource ?s ; schema:value ?value .
             ?s schema:identifier ?source .
             %s
             OPTIONAL { ?m schema:name ?name } OPTIONAL { ?m dcterms:description ?description }
             OPTIONAL { ?m schema:variableMeasured ?metric } OPTIONAL { ?m schema:unitText ?unit }
             OPTIONAL { ?m schema:measurementTechnique ?technique }
             OPTIONAL { ?m fwc:framework ?framework } OPTIONAL { ?m schema:softwareVersion ?version }
             OPTIONAL { ?m fwc:hardware ?hardware } OPTIONAL { ?m dcterms:date ?date }
             OPTIONAL { ?m dcterms:source ?url }
             OPTIONAL { ?m fwc:measuredUnder ?k .
               OPTIONAL { ?k fwc:device/skos:notation ?device }
               OPTIONAL { ?k fwc:phase/skos:notation ?phase }
               OPTIONAL { ?k fwc:modelFamily ?model } OPTIONAL { ?k fwc:batchRegime ?batch }
               OPTIONAL { ?k fwc:inputRegime ?input } }
             OPTIONAL { ?m fwc:bearsOn/schema:identifier ?cid }
           } GROUP BY ?m ?name ?description ?metric ?value ?unit ?technique ?framework ?version
                      ?hardware ?device ?phase ?model ?batch ?input ?date ?source ?url"""
        % where
    )
    base, out = ns.BASE + "evidence/", []
    for r in rows:
        m = r.pop("m")
        r["id"] = m[len(base) :] if m.startswith(base) else m
        r["claims"] = sorted(set(r["claims"].split())) if r["claims"] else []
        out.append(r)
    out = _dedupe(sorted(out, key=lambda r: (r["phase"] or "", r["model"] or "", r["id"])), "id")
    return out
