"""Response models of the JSON API (they make the OpenAPI schema at /openapi.json precise), and
`error`, the one shape of every 4xx/5xx answer."""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field


def error(status: int, title: str, detail: Any = None, headers: dict | None = None) -> JSONResponse:
    """An error answer: `{"error": title, "detail": detail}` with this status."""
    body = {"error": title, "detail": jsonable_encoder(detail)}
    return JSONResponse(body, status_code=status, headers=headers)


class Error(BaseModel):
    """Every 4xx/5xx answer: what went wrong, and details where there are any."""

    error: str
    detail: Any = None


class ClaimSummary(BaseModel):
    """One row of the claim list."""

    id: str
    kind: str
    category: str
    text: str
    favours: str | None
    check: str | None = Field(description="benchmark ids of the claim's checks, space-separated "
                              "(one for most claims); null without a check")  # fmt: skip
    checks: list[str] = Field([], description="the ids of the claim's checks (main for a claim's "
                              "only, unnamed check)")  # fmt: skip
    status: str = Field(description="holds, does-not-hold, inconclusive, not-checkable-here, "
                        "mixed, not-run or no-check")  # fmt: skip
    verdicts: dict[str, str] = Field(description="environment id -> newest verdict")
    page: str = Field(description="the claim's page in the site")


ENV_LABEL = "the environment's name on the site, unique among the environments"
ENV_SHORT = "only what tells the environment apart from the others (the index's column heads)"
HERE = "whether it is this machine: the environment of the newest run"


class CheckVerdict(BaseModel):
    """The newest run of one of a claim's checks in one environment."""

    check_id: str
    verdict: str
    qualifier: str | None
    scope: str | None
    run: str
    ended: str | None
    explanation: str | None


class Verdict(BaseModel):
    """A claim's newest verdict in one environment: its checks' verdicts combined."""

    environment: str
    environment_label: str = Field(description=ENV_LABEL)
    environment_short: str = Field(description=ENV_SHORT)
    here: bool = Field(description=HERE)
    verdict: str = Field(description="the claim's verdict there, its checks combined")
    scope: str | None = Field(None, description="outside: every run was outside its device")
    definition: str
    explanation: str | None
    run: str = Field(description="the newest run it rests on")
    ended: str | None
    checks: list[CheckVerdict] = Field([], description="each check's newest run there")


class ClaimDetail(BaseModel):
    """Everything about one claim."""

    model_config = ConfigDict(extra="allow")

    id: str
    iri: str
    kind: str
    category: str
    text: str
    favours: str | None
    rests_on: str | None
    not_checkable_because: str | None
    appearances: list[dict[str, Any]]
    derived_from: list[dict[str, Any]]
    conditions: dict[str, Any]
    checks: list[dict[str, Any]] = Field(description="the claim's checks, each with its check_id")
    combine: str = Field(description="how the checks' verdicts combine: all or any")
    contradicts: list[str]
    citation_chains: list[list[str]]
    status: str
    conclusion: str
    verdicts: list[Verdict]
    page: str


class Measurement(BaseModel):
    """One condition cell of a run."""

    cell: str | None
    metric: str | None
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float | None
    processes: int | None
    sample_size: int | None
    subject_value: float | None
    baseline_value: float | None


class Run(BaseModel):
    """One run of a claim's check."""

    run: str
    claim_id: str
    environment: str
    environment_label: str = Field(description=ENV_LABEL)
    environment_short: str = Field(description=ENV_SHORT)
    here: bool = Field(description=HERE)
    started: str | None
    ended: str | None
    status: str | None
    verdict: str
    explanation: str | None
    benchmark: str | None
    code_hash: str | None
    record: str | None = Field(description="path of the raw record inside the site, if copied")
    measurements: list[Measurement]
    check_id: str = Field("main", description="which of the claim's checks ran")
    qualifier: str | None = Field(None, description="as-claimed, larger-than-claimed or "
                                  "through-fallback, for a verdict that holds in a qualified way")  # fmt: skip
    scope: str | None = Field(None, description="outside: measured outside the claim's device")


class Specification(BaseModel):
    """One setup of an exploration, judged by the claim's own rule."""

    factors: dict[str, str] = Field(
        description="subject, baseline, threads, layout, model, batch, input"
    )
    ratio: float
    ci_low: float
    ci_high: float
    label: str
    stated: bool = Field(description="whether this is the claim's own setup")


class Exploration(BaseModel):
    """The newest exploration of a claim's multiverse (verify explore)."""

    run: str
    claim_id: str
    environment: str
    ended: str | None
    stated: str = Field(description="the claim's verdict as stated")
    robustness: str = Field(description="robust, fragile, mixed or reversed")
    sentence: str
    outside_scope: bool = Field(
        False, description="explored on another device than the claim is stated for"
    )
    record: str | None
    specifications: list[Specification]


class Source(BaseModel):
    """A document or data set in the bibliography."""

    id: str
    name: str
    role: str
    date: str | None
    url: str | None
    appears: int = Field(description="claims that appear in it")
    supports: int = Field(description="claims that rest on it")
    authors: str | None = Field(None, description="its authors, sorted, '; ' between them")
    venue: str | None = Field(None, description="where it was published")
    page: str


class Environment(BaseModel):
    """A machine with one set of framework versions."""

    id: str
    label: str = Field(description=ENV_LABEL)
    display: str = Field(description="the same as label")
    short: str = Field(description=ENV_SHORT)
    here: bool = Field(description=HERE)
    machine: str
    versions: str
    cpu: str | None
    cores: int | None
    mem: float | None
    gpu: str | None
    driver: str | None
    cuda: str | None
    os: str | None
    python: str | None
    torch: str | None
    tf: str | None
    keras: str | None
    jax: str | None
    numpy: str | None
    runs: int
    page: str
