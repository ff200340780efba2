"""The one read API: what the CLI, the site and the server know about claims, sources and runs.

Every function returns typed rows (kg.model). Whole-corpus results are memoised on the corpus;
single items are looked up in them, or fetched by the same named query of kg.queries (claims) or
kg.runqueries (runs) scoped to one claim, so no row shape is written twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kg import checkrules, multiverse, ns, queries, runqueries
from kg import explorations as explorations_q
from kg.environments import EnvironmentName, name_environments
from kg.errors import UnknownClaim, UnknownSource
from kg.model import Check, Kind
from kg.rows import (
    CitationEdge,
    Claim,
    ClaimSummary,
    ClaimVerdict,
    Concept,
    Environment,
    Evidence,
    Exploration,
    Measurement,
    Run,
    SkippedRecord,
    Source,
    SourceUse,
    Specification,
)
from kg.store import Corpus, display_path

KIND_VALUES = queries.KIND_VALUES


def claim_ids(corpus: Corpus) -> list[str]:
    """Every claim id, sorted."""
    return corpus.memoised("claim_ids", lambda: sorted(_ids(corpus)))


def _ids(corpus: Corpus) -> set[str]:
    rows = corpus.query(
        "SELECT ?id WHERE { ?c a ?k ; schema:identifier ?id . VALUES ?k { %s } }" % KIND_VALUES
    )
    return {r["id"] for r in rows}


def list_claims(
    corpus: Corpus, category: str | None = None, kind: str | None = None
) -> list[ClaimSummary]:
    """One row per claim: id, kind, category, text, favours, check, appearances, documents.

    Filters run inside the query. Two flat queries merged here beat one GROUP BY query several
    times over at 10^4 claims; results are memoised on the (immutable) corpus."""
    if kind is not None and kind not in ns.KINDS:
        return []
    make: Callable[[], list[ClaimSummary]] = lambda: _list_claims(corpus, category, kind)  # noqa: E731
    return corpus.memoised(("list_claims", category, kind), make)


def _list_claims(corpus: Corpus, category: str | None, kind: str | None) -> list[ClaimSummary]:
    kinds = f"<{ns.KINDS[kind]}>" if kind is not None else KIND_VALUES
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
    first: dict[str, dict[str, Any]] = {}  # a claim with several checks comes once per check
    for r in sorted(rows, key=lambda r: (r["id"], r["bench"] or "")):
        first.setdefault(r["id"], r)
    out = [
        ClaimSummary(
            id=r["id"],
            kind=Kind(ns.KIND_OF[r["k"]]),
            category=r["catLabel"],
            text=r["text"],
            favours=r["fav"],
            check=r["bench"][len(ns.BENCH) :] if r["bench"] else None,
            appearances=apps.get(r["c"], 0),
            documents=sorted(set(docs.get(r["c"], []))),
        )  # fmt: skip
        for r in first.values()
    ]
    return sorted(out, key=lambda row: (row.category, row.id))


def categories(corpus: Corpus) -> list[Concept]:
    """The category concepts: notation, label, definition."""
    return _concepts(corpus, "categories")


def verdict_labels(corpus: Corpus) -> list[Concept]:
    """The verdict concepts: notation, label, definition."""
    return _concepts(corpus, "verdicts")


def _concepts(corpus: Corpus, scheme: str) -> list[Concept]:
    rows = corpus.query(
        """SELECT ?notation ?label ?definition WHERE {
             ?c skos:inScheme ?scheme ; skos:notation ?notation ; skos:prefLabel ?label ;
                skos:definition ?definition } ORDER BY ?notation""",
        scheme=ns.FWC + scheme,
    )
    return [Concept(r["notation"], r["label"], r["definition"]) for r in rows]


def claims(corpus: Corpus) -> dict[str, Claim]:
    """Every claim with all its parts, keyed by id (sorted)."""
    return queries.claim_details(corpus)


def claim(corpus: Corpus, claim_id: str) -> Claim:
    """Everything about one claim: statement, appearances, sources, conditions, check, links."""
    found: Claim | None
    if "claim_details" in corpus.memo:
        found = queries.claim_details(corpus).get(claim_id)
    elif ns.is_claim_id(claim_id):  # ids are kebab-case; nothing else may reach a query
        found = queries.claim_details(corpus, [claim_id]).get(claim_id)
    else:
        found = None
    if found is None:
        raise UnknownClaim(claim_id, claim_ids(corpus))
    return found


def claim_checks(corpus: Corpus, claim_id: str) -> list[Check]:
    """What `verify run` needs: the claim's checks with their kind and conditions, in check-id
    order ("main", a claim's unnamed check, first); empty for a claim without one."""
    return claim(corpus, claim_id).checks


def checks(corpus: Corpus) -> dict[str, list[Check]]:
    """Every claim's checks, keyed by claim id (claims without one left out)."""
    return {cid: c.checks for cid, c in queries.claim_details(corpus).items() if c.checks}


def multiverses(corpus: Corpus) -> dict[str, multiverse.Multiverse]:
    """Each benchmark's declared multiverse (kg.multiverse), by benchmark id."""
    return checkrules.multiverses(corpus)


def checkable_claim_ids(corpus: Corpus) -> list[str]:
    """Ids of the claims that carry a check."""
    return [r.id for r in list_claims(corpus) if r.checkable]


def citation_chains(corpus: Corpus, claim_id: str) -> list[list[str]]:
    """Every path from a claim to a primary source, shortest first (see kg.queries)."""
    claim(corpus, claim_id)  # raises UnknownClaim with suggestions
    return queries.citation_chains(corpus, [claim_id])[claim_id]


def all_citation_chains(corpus: Corpus) -> dict[str, list[list[str]]]:
    """Every claim's citation chains, keyed by claim id."""
    return corpus.memoised("citation_chains", lambda: queries.citation_chains(corpus))


def sources(corpus: Corpus) -> list[Source]:
    """Every source: id, name, role, date, url, and how many claims appear in or rest on it."""
    return corpus.memoised("sources", lambda: _sources(corpus))


def _sources(corpus: Corpus) -> list[Source]:
    rows = corpus.query(
        """SELECT ?id ?name ?role ?date ?url
                  (COUNT(DISTINCT ?ca) AS ?appears) (COUNT(DISTINCT ?cd) AS ?supports)
                  (GROUP_CONCAT(DISTINCT ?author; separator="; ") AS ?authors) (SAMPLE(?v) AS ?venue)
           WHERE {
             ?s fwc:role/skos:notation ?role ; schema:identifier ?id ; schema:name ?name .
             OPTIONAL { ?s schema:datePublished ?date }
             OPTIONAL { ?s schema:author ?author } OPTIONAL { ?s dcterms:bibliographicCitation ?v }
             OPTIONAL { { ?s schema:sameAs ?url } UNION { ?s schema:url ?url } }
             OPTIONAL { ?ca schema:appearance/schema:isPartOf ?s }
             OPTIONAL { ?cd prov:wasDerivedFrom ?s }
           } GROUP BY ?id ?name ?role ?date ?url ORDER BY ?role ?id"""
    )
    order = _author_order(corpus)
    found: dict[str, Source] = {}
    for r in rows:  # a source with two URLs comes twice: keep the first
        authors = _authors(r["authors"], order.get(r["id"], []))
        found.setdefault(r["id"], Source(**{**r, "authors": authors}))
    return list(found.values())


def _author_order(corpus: Corpus) -> dict[str, list[str]]:
    """Each source's bibo:authorList in its published order (position = how many list nodes
    lead to an author's node)."""
    rows = corpus.query(
        """SELECT ?id ?author (COUNT(?mid) AS ?position) WHERE {
             ?s schema:identifier ?id ; bibo:authorList ?list .
             ?list rdf:rest* ?mid . ?mid rdf:rest* ?node . ?node rdf:first ?author .
           } GROUP BY ?id ?node ?author"""
    )
    order: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        order.setdefault(r["id"], []).append((int(r["position"]), r["author"]))
    return {sid: [a for _, a in sorted(found)] for sid, found in order.items()}


def _authors(joined: str | None, ordered: list[str]) -> str | None:
    """The authors as one text: in the source's authorList order where it has one, the rest
    sorted ("et al." last), so a page reads the same on every build."""
    names = [n for n in ordered if n in (joined or "").split("; ")]
    rest = sorted(n for n in (joined or "").split("; ") if n and n not in names)
    names += [n for n in rest if n != "et al."] + [n for n in rest if n == "et al."]
    return "; ".join(names) or None


def source(corpus: Corpus, source_id: str) -> tuple[Source, list[SourceUse]]:
    """One source and the claims that appear in it or rest on it."""
    known = {s.id: s for s in sources(corpus)}
    if source_id not in known or not ns.is_claim_id(source_id):
        raise UnknownSource(source_id, sorted(known))
    rows = corpus.query(
        """SELECT DISTINCT ?id ?how WHERE {
             { ?c schema:appearance/schema:isPartOf ?s . BIND("appears" AS ?how) }
             UNION { ?c prov:wasDerivedFrom ?s . BIND("rests-on" AS ?how) }
             ?c schema:identifier ?id } ORDER BY ?id""",
        s=ns.SRC + source_id,
    )
    return known[source_id], [SourceUse(r["id"], r["how"]) for r in rows]


def citation_edges(corpus: Corpus) -> list[CitationEdge]:
    """Edges of the evidence graph (claim -> document, document -> document)."""
    return queries.citation_edges(corpus)


def contradiction_pairs(corpus: Corpus) -> list[tuple[str, str]]:
    """Pairs of claims linked by fwc:contradicts, each pair once, sorted."""
    pairs = {tuple(sorted((cid, other))) for cid, c in queries.claim_details(corpus).items()
             for other in c.contradicts}  # fmt: skip
    return sorted((a, b) for a, b in pairs)


def runs(corpus: Corpus, claim_id: str | None = None) -> list[Run]:
    """Runs, newest first: claim, environment, times, status, verdict, explanation, record."""
    rows = runqueries.runs(corpus)
    return rows if claim_id is None else [r for r in rows if r.claim_id == claim_id]


def latest_check_runs(corpus: Corpus, claim_id: str) -> dict[str, dict[str, Run]]:
    """A claim's newest run of each of its checks in each environment: environment id ->
    check id -> run (environments in the order of their newest run; latest_runs gives the
    newest run of any check)."""
    out: dict[str, dict[str, Run]] = {}
    for r in runs(corpus, claim_id):  # newest first
        out.setdefault(r.environment, {}).setdefault(r.check_id, r)
    return out


def measurements(corpus: Corpus, run_id: str) -> list[Measurement]:
    """The per-cell measurements of one run: ratio, CI, both sides' statistics, sample size."""
    return runqueries.measurements(corpus).get(run_id, [])


def all_measurements(corpus: Corpus) -> Mapping[str, list[Measurement]]:
    """Every run's measurements, keyed by run id."""
    return runqueries.measurements(corpus)


def skipped_records(corpus: Corpus) -> list[SkippedRecord]:
    """The run records left out of the graph as unreadable, with the reason, by file name."""
    out = []
    for e in corpus.skipped:
        path = e.path or ""
        rel = display_path(corpus.root, Path(path)) if path else "data/results/"
        reason = str(e).removeprefix(path).lstrip(":0123456789 ")
        out.append(SkippedRecord(rel, reason))
    return sorted(out, key=lambda r: r.path)


def environments(corpus: Corpus) -> list[Environment]:
    """Every environment with hardware, versions and how many runs it has."""
    return runqueries.environments(corpus)


def environment_names(corpus: Corpus) -> dict[str, EnvironmentName]:
    """Every environment's names among the graph's (kg.environments.name_environments)."""
    return corpus.memoised("environment_names", lambda: name_environments(environments(corpus)))


def claim_verdicts(corpus: Corpus) -> dict[str, dict[str, ClaimVerdict]]:
    """Each claim's verdict per environment, its checks' newest verdicts combined: claim id ->
    environment id -> verdict (environments in the order of their newest run)."""
    return corpus.memoised("claim_verdicts", lambda: _claim_verdicts(corpus))


def _claim_verdicts(corpus: Corpus) -> dict[str, dict[str, ClaimVerdict]]:
    grouped: dict[str, dict[str, list[Run]]] = {}
    for r in runs(corpus):  # newest first
        grouped.setdefault(r.claim_id, {}).setdefault(r.environment, []).append(r)
    details = claims(corpus)
    out: dict[str, dict[str, ClaimVerdict]] = {}
    for cid, per_env in grouped.items():
        if cid in details:
            found = {e: ClaimVerdict.of(details[cid], e, rs) for e, rs in per_env.items()}
            out[cid] = {e: v for e, v in found.items() if v is not None}
    return out


def latest_runs(corpus: Corpus) -> dict[str, dict[str, Run]]:
    """The newest run per claim and environment: claim id -> environment id -> run."""
    return corpus.memoised("latest_runs", lambda: _latest(runs(corpus)))


def _latest(rows: list[Run]) -> dict[str, dict[str, Run]]:
    latest: dict[str, dict[str, Run]] = {}
    for r in rows:  # newest first: the first run seen per (claim, environment) is the latest
        latest.setdefault(r.claim_id, {}).setdefault(r.environment, r)
    return latest


def evidence(corpus: Corpus, claim_id: str | None = None) -> list[Evidence]:
    """Published measurements (a primary source's own numbers, not our runs), optionally only
    those bearing on one claim."""
    rows = corpus.memoised("evidence", lambda: _evidence(corpus))
    if claim_id is None:
        return rows
    claim(corpus, claim_id)  # raises UnknownClaim
    return [r for r in rows if claim_id in r.claims]


def _evidence(corpus: Corpus) -> list[Evidence]:
    rows = corpus.query(
        """SELECT ?m ?name ?description ?metric ?value ?unit ?technique ?framework ?version
                  ?hardware ?device ?phase ?model ?batch ?input ?date ?source ?url
                  (GROUP_CONCAT(DISTINCT ?cid; separator=" ") AS ?claims) WHERE {
             ?m a fwc:Measurement ; prov:hadPrimarySource ?s ; schema:value ?value .
             ?s schema:identifier ?source .
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
             OPTIONAL { { ?m fwc:bearsOn ?c } UNION { ?c fwc:evidence ?m } ?c schema:identifier ?cid }
           } GROUP BY ?m ?name ?description ?metric ?value ?unit ?technique ?framework ?version
                      ?hardware ?device ?phase ?model ?batch ?input ?date ?source ?url"""
    )
    base, out = ns.BASE + "evidence/", dict[str, Evidence]()
    for r in sorted(rows, key=lambda r: (r["phase"] or "", r["model"] or "", r["m"])):
        ident = r["m"][len(base) :] if r["m"].startswith(base) else r["m"]
        claims = sorted(set((r["claims"] or "").split()))
        out.setdefault(ident, Evidence(id=ident, claims=claims, **_evidence_fields(r)))
    return list(out.values())


def _evidence_fields(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r[k] for k in ("name", "description", "metric", "value", "unit", "technique",
                              "framework", "version", "hardware", "device", "phase", "model",
                              "batch", "input", "date", "source", "url")}  # fmt: skip


def explorations(corpus: Corpus, claim_id: str | None = None) -> list[Exploration]:
    """Explorations of claims' multiverses (verify explore), newest first; one claim's with an id."""
    rows = explorations_q.explorations(corpus)
    return rows if claim_id is None else [r for r in rows if r.claim_id == claim_id]


def latest_explorations(corpus: Corpus) -> dict[str, Exploration]:
    """Each explored claim's newest exploration (on any machine)."""
    out: dict[str, Exploration] = {}
    for row in explorations_q.explorations(corpus):  # newest first
        out.setdefault(row.claim_id, row)
    return out


def specifications(corpus: Corpus, run_id: str) -> list[Specification]:
    """One exploration's specifications, in recorded order."""
    return explorations_q.specifications(corpus).get(run_id, [])
