"""The JSON API: claims, their runs, sources and environments, read from the same gathered data
as the pages (verify.publish.sitedata over kg's read API), so a page and its API answer always agree.

The routes are coroutines: each is a lookup in memory, so none needs the shared thread pool,
and none waits behind SPARQL queries however many are running.
"""

from __future__ import annotations

import difflib

from fastapi import FastAPI, Query
from starlette.exceptions import HTTPException

from kg.model import plain
from kg.rows import ClaimVerdict
from verify.publish import claimpage, sitedata
from verify.serve import models as m

ERRORS = {400: {"model": m.Error}, 404: {"model": m.Error}, 422: {"model": m.Error}}


class ClaimViews:
    """The claim rows the routes return, built from the gathered site data."""

    def __init__(self, data: sitedata.SiteData) -> None:
        self.data = data
        self.statuses = {cid: data.status(cid) for cid in data.claims}

    def verdicts(self, cid: str) -> dict[str, str]:
        """Environment id -> the claim's newest verdict there, its checks combined."""
        found = self.data.combined.get(cid, {})
        return {e: found[e].verdict.value for e in self.data.env_order if e in found}

    def env_fields(self, env_id: str) -> dict:
        """How an environment is named beside its id: the site's label, its short name, and
        whether it is this machine (the environment of the newest run)."""
        env = self.data.environments.get(env_id)
        return {"environment_label": self.data.env_label(env_id),
                "environment_short": env.short if env else env_id,
                "here": env_id == self.data.here}  # fmt: skip

    def summary(self, cid: str) -> dict:
        """One row of the claim list."""
        c = self.data.claims[cid]
        benchmarks = " ".join(dict.fromkeys(k.benchmark for k in c.checks))
        return {**plain(c), "check": benchmarks or None, "checks": [k.check_id for k in c.checks],
                "status": self.statuses[cid], "verdicts": self.verdicts(cid),
                "page": f"/claims/{sitedata.safe_name(cid)}.html"}  # fmt: skip

    def matches(self, cid: str, category: str | None, kind: str | None, status: str | None,
                words: list[str]) -> bool:  # fmt: skip
        """Whether a claim passes the list filters."""
        c = self.data.claims[cid]
        if (category and c.category != category) or (kind and c.kind != kind):
            return False
        if status and status != self.statuses[cid]:  # the definition the site's counts use
            return False
        return all(w in f"{cid} {c.text}".lower() for w in words)

    def claim_or_404(self, cid: str) -> object:
        """The claim, or a 404 that suggests the closest ids."""
        if cid not in self.data.claims:
            close = difflib.get_close_matches(cid, list(self.data.claims), n=3, cutoff=0.5)
            raise HTTPException(404, {"claim": cid, "did_you_mean": close})
        return self.data.claims[cid]

    def detail(self, cid: str) -> dict:
        """Everything about one claim, with every check and each one's newest verdict per
        environment beside the claim's combined verdict there."""
        c, data = self.claim_or_404(cid), self.data
        found = data.combined.get(cid, {})
        verdicts = [self.verdict(found[e]) for e in data.env_order if e in found]
        return {**plain(c), "citation_chains": data.chains.get(cid, []),
                "status": self.statuses[cid], "conclusion": claimpage.conclusion(data, cid),
                "verdicts": verdicts, "page": f"/claims/{sitedata.safe_name(cid)}.html"}  # fmt: skip

    def verdict(self, v: ClaimVerdict) -> dict:
        """A claim's verdict in one environment, with the newest run of each check there."""
        data, newest = self.data, v.newest
        checks = [{"check_id": k, "verdict": r.verdict.value, "qualifier": r.qualifier,
                   "scope": r.scope, "run": r.run, "ended": r.ended,
                   "explanation": data.explanation(r)} for k, r in sorted(v.runs.items())]  # fmt: skip
        several = len(self.data.claims[v.claim_id].checks) > 1
        explanation = (" ".join(f"{k['check_id']}: {k['explanation']}" for k in checks)
                       if several else data.explanation(newest))  # fmt: skip
        return {"environment": v.environment, **self.env_fields(v.environment),
                "verdict": v.verdict.value, "scope": v.scope,
                "definition": data.definition(v.verdict), "explanation": explanation,
                "run": newest.run, "ended": newest.ended, "checks": checks}  # fmt: skip

    def runs(self, cid: str) -> list[dict]:
        """A claim's runs, newest first, with every cell's measurement."""
        self.claim_or_404(cid)
        out = []
        for r in self.data.runs_by_claim.get(cid, []):
            href = claimpage.record_href(r.record)
            cells = plain(self.data.measurements.get(r.run, []))
            out.append({**plain(r), **self.env_fields(r.environment),
                        "record": f"/{href}" if href else None, "measurements": cells})  # fmt: skip
        return out

    def exploration(self, cid: str) -> dict:
        """The claim's newest exploration with its specifications; 404 when never explored."""
        self.claim_or_404(cid)
        found = self.data.explorations.get(cid)
        if found is None:
            raise HTTPException(404, {"claim": cid, "reason": "not explored yet (verify explore)"})
        href = claimpage.record_href(found.record)
        return {**plain(found), "record": f"/{href}" if href else None,
                "specifications": plain(self.data.specifications.get(found.run, []))}  # fmt: skip


def register_claims_api(app: FastAPI, data: sitedata.SiteData) -> None:
    """Add the /api/claims routes."""
    views = ClaimViews(data)

    @app.get("/api/claims", response_model=list[m.ClaimSummary], responses=ERRORS, tags=["claims"])
    async def list_claims(
        category: str | None = Query(None, description="only this category, e.g. inference-latency"),
        kind: str | None = Query(None, description="performance, capability, adoption, qualitative"),
        status: str | None = Query(None, description="overall status (SiteData.status): one per "
                                   "claim, the same the site's counts and filter use; mixed "
                                   "where environments disagree"),
        q: str | None = Query(None, max_length=200, description="words in the claim text or id"),
    ):  # fmt: skip
        """Every claim with its overall status and newest verdict per environment."""
        words = (q or "").lower().split()
        return [views.summary(cid) for cid in data.claims
                if views.matches(cid, category, kind, status, words)]  # fmt: skip

    @app.get("/api/claims/{claim_id}", response_model=m.ClaimDetail, responses=ERRORS,
             tags=["claims"])  # fmt: skip
    async def get_claim(claim_id: str):
        """One claim: statement, sources, citation chains, conditions, check, verdicts."""
        return views.detail(claim_id)

    @app.get("/api/claims/{claim_id}/runs", response_model=list[m.Run], responses=ERRORS,
             tags=["claims"])  # fmt: skip
    async def get_runs(claim_id: str):
        """A claim's runs, newest first, with the measured ratio and CI of every cell."""
        return views.runs(claim_id)

    @app.get("/api/claims/{claim_id}/exploration", response_model=m.Exploration,
             responses=ERRORS, tags=["claims"])  # fmt: skip
    async def get_exploration(claim_id: str):
        """The claim's newest exploration: every specification, the robustness label, the factor."""
        return views.exploration(claim_id)


def register_catalogue_api(app: FastAPI, data: sitedata.SiteData) -> None:
    """Add the /api/sources and /api/environments routes."""

    @app.get("/api/sources", response_model=list[m.Source], tags=["sources"])
    async def list_sources():
        """The bibliography with how many claims appear in or rest on each source."""
        return [{**plain(s), "page": f"/sources/{sitedata.safe_name(s.id)}.html"}
                for s in data.sources.values()]  # fmt: skip

    @app.get("/api/environments", response_model=list[m.Environment], tags=["environments"])
    async def list_environments():
        """Every environment: hardware, framework versions, number of runs."""
        return [{**plain(data.environments[e]),
                 "page": f"/environments/{sitedata.safe_name(e)}.html"}
                for e in data.env_order]  # fmt: skip
