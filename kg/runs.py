"""Named queries over run records (PROV-O activities): runs, measurements, environments, verdicts.

Part of the read API; kg.api re-exports these functions.
"""

from __future__ import annotations

from kg.load import Corpus


def _memo(corpus: Corpus, key: str, make):
    if key not in corpus.memo:
        corpus.memo[key] = make(corpus)
    return corpus.memo[key]


def runs(corpus: Corpus, claim_id: str | None = None) -> list[dict]:
    """Runs, newest first: claim, environment, times, status, verdict, explanation, record path."""
    from kg.site_queries import all_runs  # linear in the records, whatever their number

    rows = _memo(corpus, "runs", all_runs)
    return rows if claim_id is None else [r for r in rows if r["claim_id"] == claim_id]


def measurements(corpus: Corpus, run_id: str) -> list[dict]:
    """The per-cell measurements of one run: ratio, CI, both sides' statistics, sample size."""
    from kg.site_queries import all_measurements

    return _memo(corpus, "measurements", all_measurements).get(run_id, [])


def environments(corpus: Corpus) -> list[dict]:
    """Every environment with hardware, versions and how many runs it has."""
    from kg.site_queries import all_environments

    return _memo(corpus, "environments", all_environments)


def latest_verdicts(corpus: Corpus) -> list[dict]:
    """The newest run per (claim, environment): the verdict matrix the site shows."""
    latest: dict[tuple[str, str], dict] = {}
    for r in runs(corpus):  # newest first
        latest.setdefault((r["claim_id"], r["environment"]), r)
    return sorted(latest.values(), key=lambda r: (r["claim_id"], r["environment"]))
