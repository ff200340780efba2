"""Named queries over run records (PROV-O activities): runs, measurements, environments, verdicts.

Part of the read API; kg.api re-exports these functions.
"""

from __future__ import annotations

from kg import ns
from kg.load import Corpus

_VERDICT = {
    f"{ns.FWC}{c}": label
    for label, c in (
        ("holds", "Holds"),
        ("does-not-hold", "DoesNotHold"),
        ("inconclusive", "Inconclusive"),
        ("not-checkable-here", "NotCheckableHere"),
    )
}


def runs(corpus: Corpus, claim_id: str | None = None) -> list[dict]:
    """Runs, newest first: claim, environment, times, status, verdict, explanation, record path."""
    bind = {"claim": ns.CLAIM + claim_id} if claim_id else {}
    rows = corpus.query(
        """SELECT DISTINCT ?run ?claim ?env ?envLabel ?started ?ended ?status ?verdict ?explanation
                  ?record ?codeHash ?budget ?bench ?deprecated ?successor WHERE {
             ?run a fwc:Run ; schema:about ?claim ; prov:used ?env ; fwc:rawRecord ?record .
             ?env a fwc:Environment ; schema:identifier ?envId ; rdfs:label ?envLabel .
             ?review prov:wasGeneratedBy ?run ; a schema:ClaimReview .
             OPTIONAL { ?review fwc:verdict ?verdict } OPTIONAL { ?review schema:reviewBody ?explanation }
             OPTIONAL { ?run prov:startedAtTime ?started } OPTIONAL { ?run prov:endedAtTime ?ended }
             OPTIONAL { ?run fwc:status ?status } OPTIONAL { ?run fwc:codeHash ?codeHash }
             OPTIONAL { ?run fwc:budgetSeconds ?budget }
             OPTIONAL { ?run prov:used ?b . ?b a ?bt ; schema:identifier ?bench .
                        VALUES ?bt { fwc:Benchmark fwc:Probe fwc:DataCheck } }
             OPTIONAL { ?run fwc:deprecated ?deprecated } OPTIONAL { ?run fwc:successor ?successor }
           } ORDER BY DESC(?ended) ?run""",
        **bind,
    )
    return [
        {
            "run": r["run"][len(ns.RUN) :],
            "claim_id": r["claim"][len(ns.CLAIM) :],
            "environment": r["env"][len(ns.ENV) :],
            "environment_label": r["envLabel"],
            "started": r["started"],
            "ended": r["ended"],
            "status": r["status"],
            "verdict": _VERDICT.get(r["verdict"], "inconclusive"),
            "explanation": r["explanation"],
            "record": r["record"],
            "code_hash": r["codeHash"],
            "budget_s": r["budget"],
            "benchmark": r["bench"],
            "deprecated": r["deprecated"],
            "successor": r["successor"],
        }
        for r in rows
    ]


def measurements(corpus: Corpus, run_id: str) -> list[dict]:
    """The per-cell measurements of one run: ratio, CI, both sides' statistics, sample size."""
    return corpus.query(
        """SELECT ?cell ?metric ?value ?ciLow ?ciHigh ?confidence ?method ?processes ?n
                  ?subjectValue ?baselineValue WHERE {
             ?m a fwc:Measurement ; prov:wasGeneratedBy ?run .
             OPTIONAL { ?m fwc:cell ?cell } OPTIONAL { ?m fwc:metric ?metric }
             OPTIONAL { ?m schema:value ?value } OPTIONAL { ?m fwc:ciLow ?ciLow }
             OPTIONAL { ?m fwc:ciHigh ?ciHigh } OPTIONAL { ?m fwc:confidence ?confidence }
             OPTIONAL { ?m fwc:method ?method } OPTIONAL { ?m fwc:processes ?processes }
             OPTIONAL { ?m fwc:sampleSize ?n } OPTIONAL { ?m fwc:subjectValue ?subjectValue }
             OPTIONAL { ?m fwc:baselineValue ?baselineValue } } ORDER BY ?m""",
        run=ns.RUN + run_id,
    )


def environments(corpus: Corpus) -> list[dict]:
    """Every environment with hardware, versions and how many runs it has."""
    rows = corpus.query(
        """SELECT ?id ?label ?cpu ?cores ?mem ?gpu ?driver ?cuda ?os ?python ?torch ?tf ?keras ?jax
                  ?numpy (COUNT(DISTINCT ?run) AS ?runs) WHERE {
             ?e a fwc:Environment ; schema:identifier ?id ; rdfs:label ?label .
             OPTIONAL { ?e fwc:cpuModel ?cpu } OPTIONAL { ?e fwc:cores ?cores }
             OPTIONAL { ?e fwc:memoryGiB ?mem } OPTIONAL { ?e fwc:gpuModel ?gpu }
             OPTIONAL { ?e fwc:gpuDriver ?driver } OPTIONAL { ?e fwc:cudaVersion ?cuda }
             OPTIONAL { ?e fwc:operatingSystem ?os } OPTIONAL { ?e fwc:pythonVersion ?python }
             OPTIONAL { ?e fwc:torchVersion ?torch } OPTIONAL { ?e fwc:tensorflowVersion ?tf }
             OPTIONAL { ?e fwc:kerasVersion ?keras } OPTIONAL { ?e fwc:jaxVersion ?jax }
             OPTIONAL { ?e fwc:numpyVersion ?numpy }
             OPTIONAL { ?run a fwc:Run ; prov:used ?e }
           } GROUP BY ?id ?label ?cpu ?cores ?mem ?gpu ?driver ?cuda ?os ?python ?torch ?tf ?keras
             ?jax ?numpy ORDER BY ?label"""
    )
    return rows


def latest_verdicts(corpus: Corpus) -> list[dict]:
    """The newest run per (claim, environment): the verdict matrix the site shows."""
    latest: dict[tuple[str, str], dict] = {}
    for r in runs(corpus):  # newest first
        latest.setdefault((r["claim_id"], r["environment"]), r)
    return sorted(latest.values(), key=lambda r: (r["claim_id"], r["environment"]))
