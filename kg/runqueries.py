"""The named queries of run records: runs, their measurements and their environments. Each row
shape is fetched by one query written once here, over every record (memoised on the corpus) or
over a few record graphs (the same query with the graph named) or runs (with a VALUES block),
which is how kg.rowcache adds new records' rows to rows kept from a previous load. kg.api is the
way in.

Every run record restates its environment in its own named graph, so over the union graph an
environment's triples appear once per record, and a join through ?env multiplies rows by that
count. The run and environment queries therefore read each record graph on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pyoxigraph as ox

from kg import ns
from kg.environments import PROPERTIES, name_environments
from kg.model import MAIN_CHECK, Label
from kg.rows import Environment, Measurement, Run
from kg.store import Corpus, values_block

EnvTriple = tuple[str, str, Any]  # an environment's IRI, a property, its value


def _short(iri: str | None) -> str | None:
    return iri[len(ns.FWC) :] if iri and iri.startswith(ns.FWC) else iri


def _per_graph(corpus: Corpus, sparql: str, graphs: list[str] | None) -> list[dict[str, Any]]:
    """The rows of a query over every record graph (its ``GRAPH ?g``), or over each of `graphs`
    in turn, named in place of ?g: Oxigraph does not narrow ``GRAPH ?g`` by a VALUES block
    (a hundred times slower at 10^4 records)."""
    if graphs is None:
        return corpus.query(sparql)
    rows: list[dict[str, Any]] = []
    for g in graphs:
        rows += corpus.query(sparql.replace("GRAPH ?g {", f"GRAPH {ox.NamedNode(g)} {{"))
    return rows


def measurements(corpus: Corpus, runs: list[str] | None = None) -> Mapping[str, list[Measurement]]:
    """Every run's (or these runs') per-cell measurements, keyed by run id (sorted), cells in
    their recorded order."""
    if runs is None:
        return corpus.memoised("measurements", lambda: _measurements(corpus, ""))
    return _measurements(corpus, values_block("run", [ns.RUN + r for r in runs]))


def _measurements(corpus: Corpus, scope: str) -> dict[str, list[Measurement]]:
    rows = corpus.query(
        """SELECT ?run ?m ?cell ?metric ?value ?ciLow ?ciHigh ?confidence ?method ?processes ?n
                  ?subjectValue ?baselineValue ?subjectP90 ?baselineP90 ?batch ?size WHERE { %s
             ?m a fwc:Measurement ; prov:wasGeneratedBy ?run .
             OPTIONAL { ?m fwc:cell ?cell } OPTIONAL { ?m fwc:metric ?metric }
             OPTIONAL { ?m schema:value ?value } OPTIONAL { ?m fwc:ciLow ?ciLow }
             OPTIONAL { ?m fwc:ciHigh ?ciHigh } OPTIONAL { ?m fwc:confidence ?confidence }
             OPTIONAL { ?m fwc:method ?method } OPTIONAL { ?m fwc:processes ?processes }
             OPTIONAL { ?m fwc:sampleSize ?n } OPTIONAL { ?m fwc:subjectValue ?subjectValue }
             OPTIONAL { ?m fwc:baselineValue ?baselineValue }
             OPTIONAL { ?m fwc:subjectP90 ?subjectP90 } OPTIONAL { ?m fwc:baselineP90 ?baselineP90 }
             OPTIONAL { ?m fwc:batchSize ?batch } OPTIONAL { ?m fwc:inputSize ?size } }"""
        % scope
    )
    out: dict[str, list[Measurement]] = defaultdict(list)
    # cells are numbered run/<id>/cell/<n>: order them by n, not as strings
    for r in sorted(rows, key=lambda r: (r["run"], int(r["m"].rsplit("/", 1)[-1]))):
        out[r["run"][len(ns.RUN) :]].append(
            Measurement(
                cell=r["cell"],
                metric=r["metric"],
                ratio=r["value"],
                ci_low=r["ciLow"],
                ci_high=r["ciHigh"],
                confidence=r["confidence"],
                method=r["method"],
                processes=r["processes"],
                sample_size=r["n"],
                subject_value=r["subjectValue"],
                baseline_value=r["baselineValue"],
                subject_p90=r["subjectP90"],
                baseline_p90=r["baselineP90"],
                batch_size=r["batch"],
                input_size=r["size"],
            )  # fmt: skip
        )
    return dict(out)


def runs(corpus: Corpus, graphs: list[str] | None = None) -> list[Run]:
    """Every run (or the runs of these record graphs), newest first, in time linear in the
    records; environments are labelled as among all of the graph's."""
    if graphs is None:
        return corpus.memoised("runs", lambda: _runs(corpus, None))
    return _runs(corpus, graphs)


def order_runs(rows: list[Run]) -> list[Run]:
    """Runs newest first: unbound end times last, ties by run id."""
    ordered = sorted(rows, key=lambda r: r.run)
    ordered.sort(key=lambda r: (r.ended is not None, r.ended or ""), reverse=True)
    return ordered


def _runs(corpus: Corpus, graphs: list[str] | None) -> list[Run]:
    benches = {
        r["b"]: r["id"]
        for r in corpus.query(
            """SELECT ?b ?id WHERE { ?b a ?t ; schema:identifier ?id .
                 VALUES ?t { fwc:Benchmark fwc:Probe fwc:DataCheck } }"""
        )
    }
    labels = environment_labels(corpus)
    rows = _per_graph(
        corpus,
        """SELECT ?run ?claim ?env ?record ?started ?ended ?status ?verdict ?explanation
                  ?codeHash ?budget ?deprecated ?successor ?b ?tflops ?nominal ?checkId ?qualifier
                  ?scope WHERE { GRAPH ?g {
             ?run a fwc:Run ; schema:about ?claim ; prov:used ?env ; fwc:rawRecord ?record .
             ?env a fwc:Environment .
             ?review prov:wasGeneratedBy ?run ; a schema:ClaimReview .
             OPTIONAL { ?review fwc:verdict ?verdict } OPTIONAL { ?review schema:reviewBody ?explanation }
             OPTIONAL { ?run prov:startedAtTime ?started } OPTIONAL { ?run prov:endedAtTime ?ended }
             OPTIONAL { ?run fwc:status ?status } OPTIONAL { ?run fwc:codeHash ?codeHash }
             OPTIONAL { ?run fwc:budgetSeconds ?budget }
             OPTIONAL { ?run fwc:gpuMatmulTflops ?tflops } OPTIONAL { ?run fwc:gpuNominalTflops ?nominal }
             OPTIONAL { ?run fwc:deprecated ?deprecated } OPTIONAL { ?run fwc:successor ?successor }
             OPTIONAL { ?run fwc:checkId ?checkId } OPTIONAL { ?review fwc:verdictQualifier ?qualifier }
             OPTIONAL { ?review fwc:scope ?scope }
             OPTIONAL { ?run prov:used ?b FILTER(?b != ?env) } } }""",
        graphs,
    )
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        run = r["run"][len(ns.RUN) :]
        env = r["env"][len(ns.ENV) :]
        row = out.setdefault(run, {
            "run": run, "claim_id": r["claim"][len(ns.CLAIM) :], "environment": env,
            "environment_label": labels.get(env, env), "started": r["started"],
            "ended": r["ended"], "status": r["status"],
            "verdict": Label.from_concept(_short(r["verdict"]) or ""),
            "explanation": r["explanation"], "record": r["record"], "code_hash": r["codeHash"],
            "budget_s": r["budget"], "benchmark": None, "deprecated": r["deprecated"],
            "successor": r["successor"], "gpu_tflops": r["tflops"], "gpu_nominal_tflops": r["nominal"],
            "check_id": r["checkId"] or MAIN_CHECK, "qualifier": r["qualifier"], "scope": r["scope"],
        })  # fmt: skip
        row["benchmark"] = row["benchmark"] or benches.get(r["b"])
    return order_runs([Run(**r) for r in out.values()])


def environment_triples(corpus: Corpus, graphs: list[str] | None = None) -> list[EnvTriple]:
    """What the record graphs (or these) say of environments, each statement once, sorted."""
    if graphs is None:
        return corpus.memoised("environment_triples", lambda: _environment_triples(corpus, None))
    return _environment_triples(corpus, graphs)


def _environment_triples(corpus: Corpus, graphs: list[str] | None) -> list[EnvTriple]:
    rows = _per_graph(
        corpus,
        "SELECT DISTINCT ?e ?p ?o WHERE { GRAPH ?g { ?e a fwc:Environment ; ?p ?o } }",
        graphs,
    )
    return triple_order({(r["e"], r["p"], r["o"]) for r in rows})


def triple_order(triples: set[EnvTriple]) -> list[EnvTriple]:
    """Environment statements in their one order, so that two records disagreeing about an
    environment resolve the same way whichever graph the store reads first."""
    return sorted(triples, key=lambda t: (t[0], t[1], str(t[2])))


def run_counts(corpus: Corpus, graphs: list[str] | None = None) -> dict[str, int]:
    """How many runs each environment (by IRI) has in all record graphs (or in these)."""
    if graphs is None:
        return corpus.memoised("environment_run_counts", lambda: _run_counts(corpus, None))
    return _run_counts(corpus, graphs)


def _run_counts(corpus: Corpus, graphs: list[str] | None) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for r in _per_graph(
        corpus,
        "SELECT ?env WHERE { GRAPH ?g { ?run a fwc:Run ; prov:used ?env . ?env a fwc:Environment } }",
        graphs,
    ):
        counts[r["env"]] += 1
    return dict(counts)


def environments(corpus: Corpus) -> list[Environment]:
    """Every environment with hardware, versions and how many runs it has, sorted by label."""
    return corpus.memoised("environments", lambda: _environments(corpus, count_runs=True))


def environment_labels(corpus: Corpus) -> dict[str, str]:
    """Each environment id -> the label it is shown by among all of the graph's."""
    return {e.id: e.label for e in _environments(corpus, count_runs=False)}


def _environments(corpus: Corpus, *, count_runs: bool) -> list[Environment]:
    envs: dict[str, dict[str, Any]] = {}
    for e, prop, value in environment_triples(corpus):
        env = envs.setdefault(e, {"id": None, "label": None})
        if prop == ns.SCHEMA + "identifier":
            env["id"] = value
        elif prop == ns.RDFS + "label":
            env["label"] = value
        elif prop.startswith(ns.FWC) and prop[len(ns.FWC) :] in PROPERTIES:
            env[PROPERTIES[prop[len(ns.FWC) :]]] = value
    counts = run_counts(corpus) if count_runs else {}
    found = [Environment(**{**e, "runs": counts.get(iri, 0)}) for iri, e in envs.items() if e["id"]]
    names = name_environments(found)  # labelled as the site, CLI and API name it, not the graph
    return sorted(
        (replace(e, label=names[e.id].display) for e in found), key=lambda e: (e.label, e.id)
    )
