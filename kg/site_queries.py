"""Whole-corpus named queries for the site: the rows of kg.api, fetched for every claim at once.

`kg.api.claim` answers one claim with six queries; a site of 10^4 claims would spend minutes in
them. These functions return the same shapes for all claims in a handful of queries, grouped in
Python, plus the per-claim RDF descriptions the site offers for download.
"""

from __future__ import annotations

import json
from collections import defaultdict

import networkx as nx
import pyoxigraph as ox

from kg import api, ns
from kg.load import Corpus
from kg.views import PRIMARY_ROLES


def notations(corpus: Corpus) -> dict[str, str]:
    """Every SKOS concept IRI -> its notation (roles, categories, devices, verdicts...)."""
    return {r["c"]: r["n"] for r in corpus.query("SELECT ?c ?n WHERE { ?c skos:notation ?n }")}


# No property paths below: over a union graph of many named graphs (one per run record) Oxigraph
# evaluated paths such as fwc:role/skos:notation 50-100x slower than the plain joins; concepts
# are mapped to their notations in Python instead.


def claim_details(corpus: Corpus) -> dict[str, dict]:
    """Every claim as `kg.api.claim` returns it, keyed by id (ids sorted)."""
    notation = notations(corpus)
    base = corpus.query(
        """SELECT ?c ?id ?k ?text ?cat ?fav ?restsOn ?why WHERE {
             ?c a ?k ; schema:identifier ?id ; schema:text ?text ; fwc:category ?cat .
             VALUES ?k { %s }
             OPTIONAL { ?c fwc:favours ?fav } OPTIONAL { ?c fwc:restsOn ?restsOn }
             OPTIONAL { ?c fwc:notCheckableBecause ?why } }"""
        % api._KIND_VALUES
    )
    out: dict[str, dict] = {}
    for r in sorted(base, key=lambda r: r["id"]):
        out.setdefault(
            r["id"],
            {
                "id": r["id"],
                "iri": r["c"],
                "kind": api.KIND_OF[r["k"]],
                "category": notation.get(r["cat"], r["cat"]),
                "text": r["text"],
                "favours": r["fav"],
                "rests_on": r["restsOn"],
                "not_checkable_because": r["why"],
                "appearances": [],
                "derived_from": [],
                "conditions": {},
                "check": None,
                "contradicts": [],
            },
        )
    apps = corpus.query(
        """SELECT ?id ?doc ?docName ?role ?locator ?wording WHERE {
             ?c schema:appearance ?a ; schema:identifier ?id .
             ?a schema:isPartOf ?d ; fwc:locator ?locator .
             ?d schema:identifier ?doc ; schema:name ?docName ; fwc:role ?role .
             OPTIONAL { ?a fwc:wording ?wording } }"""
    )
    for r in sorted(apps, key=lambda r: (r["id"], r["doc"], r["locator"], r["wording"] or "")):
        if r["id"] in out:
            row = {k: v for k, v in r.items() if k != "id"}
            row["role"] = notation.get(r["role"], r["role"])
            out[r["id"]]["appearances"].append(row)
    derived = corpus.query(
        """SELECT ?cid ?id ?name ?role ?url ?date WHERE {
             ?c prov:wasDerivedFrom ?s ; schema:identifier ?cid .
             ?s schema:identifier ?id ; schema:name ?name ; fwc:role ?role .
             OPTIONAL { ?s schema:sameAs ?url } OPTIONAL { ?s schema:url ?url }
             OPTIONAL { ?s schema:datePublished ?date } }"""
    )
    seen: set[tuple[str, str]] = set()
    for r in sorted(derived, key=lambda r: (r["cid"], r["id"], r["url"] or "")):
        if r["cid"] in out and (r["cid"], r["id"]) not in seen:
            seen.add((r["cid"], r["id"]))
            row = {k: v for k, v in r.items() if k != "cid"}
            row["role"] = notation.get(r["role"], r["role"])
            out[r["cid"]]["derived_from"].append(row)
    for r in corpus.query(
        """SELECT ?id ?p ?v WHERE { ?c fwc:condition ?k ; schema:identifier ?id .
             ?k ?p ?v . FILTER(?p != rdf:type) }"""
    ):
        if r["id"] in out:
            out[r["id"]]["conditions"][api._short(r["p"])] = notation.get(r["v"], r["v"])
    for cid, check in _checks(corpus, notation).items():
        if cid in out:
            out[cid]["check"] = check
    for r in corpus.query(
        """SELECT DISTINCT ?a ?b WHERE { ?x fwc:contradicts ?y .
             ?x schema:identifier ?a . ?y schema:identifier ?b }"""
    ):
        for one, other in ((r["a"], r["b"]), (r["b"], r["a"])):
            if one in out and other not in out[one]["contradicts"]:
                out[one]["contradicts"].append(other)
    for c in out.values():
        c["contradicts"].sort()
        c["conditions"] = dict(sorted(c["conditions"].items()))
    return out


def _checks(corpus: Corpus, notation: dict[str, str]) -> dict[str, dict]:
    # Benchmarks, concepts and checks are fetched apart and joined here: one query with the
    # property path fwc:quantifier/skos:notation took minutes on 10^4 claims.
    rows = corpus.query(
        """SELECT ?id ?b ?params ?metric ?better ?subject ?baseline ?threshold ?tolerance ?q
           WHERE {
             ?c fwc:checkedBy ?k ; schema:identifier ?id . ?k fwc:benchmark ?b ; fwc:rule ?r .
             ?r fwc:metric ?metric ; fwc:better ?better ; fwc:subject ?subject ;
                fwc:threshold ?threshold ; fwc:tolerance ?tolerance ; fwc:quantifier ?q .
             OPTIONAL { ?k fwc:parameters ?params }
             OPTIONAL { ?r fwc:baseline ?baseline } } ORDER BY ?id"""
    )
    benches = {
        r["b"]: r
        for r in corpus.query(
            """SELECT ?b ?bench ?module ?btype WHERE {
                 ?b a ?btype ; schema:identifier ?bench ; fwc:module ?module .
                 VALUES ?btype { fwc:Benchmark fwc:Probe fwc:DataCheck } }"""
        )
    }
    types = {"Benchmark": "benchmark", "Probe": "probe", "DataCheck": "datacheck"}
    out: dict[str, dict] = {}
    for r in rows:
        b = benches.get(r["b"])
        if b is None or r["q"] not in notation:
            continue
        out.setdefault(
            r["id"],
            {
                "benchmark": b["bench"],
                "module": b["module"],
                "benchmark_type": types[api._short(b["btype"])],
                "parameters": json.loads(r["params"]) if r["params"] else {},
                "rule": {
                    "metric": r["metric"],
                    "better": r["better"],
                    "subject": r["subject"],
                    "baseline": r["baseline"],
                    "threshold": float(r["threshold"]),
                    "tolerance": float(r["tolerance"]),
                    "quantifier": notation[r["q"]],
                },
            },
        )
    return out


def all_measurements(corpus: Corpus) -> dict[str, list[dict]]:
    """Every run's per-cell measurements (the rows of `kg.api.measurements`), keyed by run id."""
    rows = corpus.query(
        """SELECT ?run ?m ?cell ?metric ?value ?ciLow ?ciHigh ?confidence ?method ?processes ?n
                  ?subjectValue ?baselineValue WHERE {
             ?m a fwc:Measurement ; prov:wasGeneratedBy ?run .
             OPTIONAL { ?m fwc:cell ?cell } OPTIONAL { ?m fwc:metric ?metric }
             OPTIONAL { ?m schema:value ?value } OPTIONAL { ?m fwc:ciLow ?ciLow }
             OPTIONAL { ?m fwc:ciHigh ?ciHigh } OPTIONAL { ?m fwc:confidence ?confidence }
             OPTIONAL { ?m fwc:method ?method } OPTIONAL { ?m fwc:processes ?processes }
             OPTIONAL { ?m fwc:sampleSize ?n } OPTIONAL { ?m fwc:subjectValue ?subjectValue }
             OPTIONAL { ?m fwc:baselineValue ?baselineValue } }"""
    )
    out: dict[str, list[dict]] = defaultdict(list)
    # cells are numbered run/<id>/cell/<n>: order them by n, not as strings
    for r in sorted(rows, key=lambda r: (r["run"], int(r["m"].rsplit("/", 1)[-1]))):
        out[r["run"][len(ns.RUN) :]].append({k: v for k, v in r.items() if k not in ("run", "m")})
    return dict(out)


def citation_edges(corpus: Corpus) -> list[dict]:
    """The rows of `kg.api.citation_edges` (claim -> document, document -> document), sorted."""
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
                out.add((ident[a], role.get(a, "claim"), ident[b], role[b], rel))
    keys = ("from", "fromKind", "to", "toKind", "rel")
    return [dict(zip(keys, e, strict=True)) for e in sorted(out, key=lambda e: (e[0], e[4], e[2]))]


def citation_chains_all(corpus: Corpus, details: dict[str, dict]) -> dict[str, list[list[str]]]:
    """`kg.views.citation_chains` for every claim, building the evidence graph once."""
    g = nx.DiGraph()
    for e in citation_edges(corpus):
        g.add_node(e["from"], kind=e["fromKind"])
        g.add_node(e["to"], kind=e["toKind"])
        g.add_edge(e["from"], e["to"], rel=e["rel"])
    primary = sorted(n for n, k in g.nodes(data="kind") if k in PRIMARY_ROLES)
    out = {}
    for cid, c in details.items():
        if cid not in g:
            out[cid] = []
            continue
        named = sorted({d["id"] for d in c["derived_from"]})
        targets = [t for t in (named or primary) if t in g and t != cid]
        chains = (
            [list(p) for p in nx.all_simple_paths(g, cid, targets, cutoff=4)] if targets else []
        )
        out[cid] = sorted(chains, key=lambda p: (len(p), p))
    return out


def claim_descriptions(corpus: Corpus) -> dict[str, list[ox.Triple]]:
    """For each claim id, the triples that describe it: the claim with its blank-node parts
    (appearances, conditions, check, rule), and its runs, reviews and measurements. Sorted."""
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


# Every run record restates its environment in its own named graph, so over the union graph an
# environment's triples appear once per record, and a join through ?env multiplies rows by that
# count (kg.api.runs ran out of memory on 10^4 records). These read each record graph on its own.
ENV_PROPS = {
    "cpuModel": "cpu", "cores": "cores", "memoryGiB": "mem", "gpuModel": "gpu",
    "gpuDriver": "driver", "cudaVersion": "cuda", "operatingSystem": "os",
    "pythonVersion": "python", "torchVersion": "torch", "tensorflowVersion": "tf",
    "kerasVersion": "keras", "jaxVersion": "jax", "numpyVersion": "numpy",
}  # fmt: skip


def all_runs(corpus: Corpus) -> list[dict]:
    """The rows of `kg.api.runs` for every run, newest first, in time linear in the records."""
    from kg.records import VERDICT_CONCEPTS

    verdicts = {ns.FWC + concept: label for label, concept in VERDICT_CONCEPTS.items()}
    benches = {
        r["b"]: r["id"]
        for r in corpus.query(
            """SELECT ?b ?id WHERE { ?b a ?t ; schema:identifier ?id .
                 VALUES ?t { fwc:Benchmark fwc:Probe fwc:DataCheck } }"""
        )
    }
    labels = {e["id"]: e["label"] for e in all_environments(corpus, count_runs=False)}
    rows = corpus.query(
        """SELECT ?run ?claim ?env ?record ?started ?ended ?status ?verdict ?explanation
                  ?codeHash ?budget ?deprecated ?successor ?b WHERE { GRAPH ?g {
             ?run a fwc:Run ; schema:about ?claim ; prov:used ?env ; fwc:rawRecord ?record .
             ?env a fwc:Environment .
             ?review prov:wasGeneratedBy ?run ; a schema:ClaimReview .
             OPTIONAL { ?review fwc:verdict ?verdict } OPTIONAL { ?review schema:reviewBody ?explanation }
             OPTIONAL { ?run prov:startedAtTime ?started } OPTIONAL { ?run prov:endedAtTime ?ended }
             OPTIONAL { ?run fwc:status ?status } OPTIONAL { ?run fwc:codeHash ?codeHash }
             OPTIONAL { ?run fwc:budgetSeconds ?budget }
             OPTIONAL { ?run fwc:deprecated ?deprecated } OPTIONAL { ?run fwc:successor ?successor }
             OPTIONAL { ?run prov:used ?b FILTER(?b != ?env) } } }"""
    )
    out: dict[str, dict] = {}
    for r in rows:
        run = r["run"][len(ns.RUN) :]
        env = r["env"][len(ns.ENV) :]
        row = out.setdefault(
            run,
            {
                "run": run,
                "claim_id": r["claim"][len(ns.CLAIM) :],
                "environment": env,
                "environment_label": labels.get(env, env),
                "started": r["started"],
                "ended": r["ended"],
                "status": r["status"],
                "verdict": verdicts.get(r["verdict"], "inconclusive"),
                "explanation": r["explanation"],
                "record": r["record"],
                "code_hash": r["codeHash"],
                "budget_s": r["budget"],
                "benchmark": None,
                "deprecated": r["deprecated"],
                "successor": r["successor"],
            },
        )
        row["benchmark"] = row["benchmark"] or benches.get(r["b"])
    # SPARQL's ORDER BY DESC(?ended) ?run: unbound end times last
    ordered = sorted(out.values(), key=lambda r: r["run"])
    return sorted(ordered, key=lambda r: (r["ended"] is not None, r["ended"] or ""), reverse=True)


def all_environments(corpus: Corpus, *, count_runs: bool = True) -> list[dict]:
    """The rows of `kg.api.environments` (hardware, versions, number of runs), sorted by label."""
    rows = corpus.query(
        "SELECT DISTINCT ?e ?p ?o WHERE { GRAPH ?g { ?e a fwc:Environment ; ?p ?o } }"
    )
    envs: dict[str, dict] = {}
    for r in rows:
        env = envs.setdefault(
            r["e"], {"id": None, "label": None, **dict.fromkeys(ENV_PROPS.values())}
        )
        prop = r["p"]
        if prop == ns.SCHEMA + "identifier":
            env["id"] = r["o"]
        elif prop == ns.RDFS + "label":
            env["label"] = r["o"]
        elif prop.startswith(ns.FWC) and prop[len(ns.FWC) :] in ENV_PROPS:
            env[ENV_PROPS[prop[len(ns.FWC) :]]] = r["o"]
    if count_runs:
        counts: dict[str, int] = defaultdict(int)
        for r in corpus.query(
            "SELECT ?env WHERE { GRAPH ?g { ?run a fwc:Run ; prov:used ?env . ?env a fwc:Environment } }"
        ):
            counts[r["env"]] += 1
        for iri, env in envs.items():
            env["runs"] = counts.get(iri, 0)
    return sorted((e for e in envs.values() if e["id"]), key=lambda e: (e["label"] or "", e["id"]))
