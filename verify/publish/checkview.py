"""Every check of a claim on its page: what it runs, its rule, its newest verdict on this machine
and its measured-vs-claimed chart; and per environment the claim's verdict as its checks'
verdicts combine (kg.rows.Claim.combined, the engine's kg.model.combine)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from kg.model import Check, Combine, Quantifier, Rule
from kg.rows import Measurement, Run
from verify.judge.explain import CellEstimate
from verify.judge.numbers import num, ratio_text, times
from verify.judge.verdicts import deciding_cell, ratio_words, rule_in_words, tier_name
from verify.publish.charts import ChartRow, marker_symbol, ratio_chart
from verify.publish.sitedata import STATUS, SiteData, cell_status, safe_name, verdict_words

COMBINE_WORDS = {Combine.ALL: "every check must hold", Combine.ANY: "one holding check is enough"}


def latest_by_check(data: SiteData, claim_id: str) -> dict[str, dict[str, Run]]:
    """The newest run of each check in each environment: environment id -> check id -> run."""
    out: dict[str, dict[str, Run]] = {}
    for r in data.runs_by_claim.get(claim_id, []):  # newest first
        out.setdefault(r.environment, {}).setdefault(r.check_id, r)
    return out


def rule_text(check: Check | None) -> str:
    """The decision rule in words."""
    if not check:
        return ""
    if check.rule.quantifier == Quantifier.EXISTS:
        return (
            "Holds if the probe really does it on the installed versions and succeeds;"
            " does not hold if it runs and fails; deprecations and successors are reported."
        )
    return rule_in_words(check.rule)


@dataclass(frozen=True)
class EnvVerdict:
    """A claim's verdict in one environment: a STATUS key and its words, from the newest run of
    its only check or from its checks' newest runs combined; and the runs it is made of."""

    env: str
    label: str
    run: Run  # the newest of the runs it is made of
    status: str
    words: str
    explanation: str
    definition: str
    checks: list[tuple[str, Run | None, str]] = field(default_factory=list)  # several: id, run,
    # its explanation


def env_verdicts(data: SiteData, claim_id: str) -> list[EnvVerdict]:
    """The claim's verdict in every environment that ran one of its checks, in site order."""
    c = data.claims[claim_id]
    verdicts = data.combined.get(claim_id, {})  # the site's one combination (kg.api)
    out = []
    for env_id in data.env_order:
        v = verdicts.get(env_id)
        if v is None:
            continue
        by_check, newest = v.runs, v.newest
        joint = (v.verdict, v.outside_scope) if len(c.checks) > 1 else None
        if joint is None:  # one check: its run's verdict, qualifier and scope as they are
            status, words = cell_status(newest), verdict_words(newest)
            explanation, definition = data.explanation(newest), data.definition(newest.verdict)
            checks: list[tuple[str, Run | None, str]] = []
        else:
            status = "outside" if joint[1] else joint[0].value
            words = STATUS[status][1]
            explanation = f"Combined from {len(c.checks)} checks: {COMBINE_WORDS[c.combine]}."
            definition = data.definition(status)
            runs = [(k.check_id, by_check.get(k.check_id)) for k in c.checks]
            checks = [(k, r, data.explanation(r) if r else "") for k, r in runs]
        out.append(EnvVerdict(env_id, data.env_label(env_id), newest, status, words, explanation,
                              definition, checks))  # fmt: skip
    return out


@dataclass(frozen=True)
class CheckView:
    """One check as its claim's page shows it."""

    check: Check
    tiers: tuple[str, str] | None
    rule_text: str
    here: Run | None
    here_explanation: str
    chart: Markup
    legend: list[dict[str, Any]]
    tie: bool


def check_views(data: SiteData, claim_id: str) -> list[CheckView]:
    """Each of the claim's checks, in the claim's order."""
    c = data.claims[claim_id]
    latest = latest_by_check(data, claim_id)
    views = []
    for check in c.checks:
        per_env = {e: by[check.check_id] for e, by in latest.items() if check.check_id in by}
        here = per_env.get(data.here or "")
        rule = check.rule
        svg, legend = check_chart(data, claim_id, check, per_env)
        tiers = (tier_name(rule.subject), tier_name(rule.baseline))
        views.append(CheckView(check, tiers if rule.subject else None, rule_text(check), here,
                               data.explanation(here) if here else "", svg, legend,
                               rule.threshold == 1 and rule.quantifier == Quantifier.ABOUT))  # fmt: skip
    return views


def check_chart(data: SiteData, claim_id: str, check: Check,
                latest: dict[str, Run]) -> tuple[Markup, list[dict[str, Any]]]:  # fmt: skip
    """The measured-vs-claimed chart of a check's newest run per environment, and its legend."""
    if check.rule.quantifier == Quantifier.EXISTS or not latest:
        return Markup(""), []
    rows, legend = [], []
    for env_id in data.env_order:
        run = latest.get(env_id)
        cells = [m for m in data.measurements.get(run.run, []) if m.ratio] if run else []
        if not cells:
            continue
        marker = len(legend)
        label = data.env_label(env_id)
        legend.append({"symbol": marker_symbol(marker), "label": label})
        for m in cells:
            assert m.ratio is not None
            rows.append(ChartRow(label, m.cell or "", m.ratio, m.ci_low, m.ci_high, marker))
    rule = check.rule
    several = len(data.claims[claim_id].checks) > 1
    return ratio_chart(
        rows,
        chart_id=f"chart-{safe_name(claim_id)}-{safe_name(check.check_id)}",
        claimed=rule.threshold,
        tolerance=rule.tolerance,
        subject=tier_name(rule.subject),
        baseline=tier_name(rule.baseline or "baseline"),
        title=f"Measured vs claimed ratio for {claim_id}"
        + (f", check {check.check_id}" if several else ""),
        band=(rule.floor, rule.ceiling),
        tie=rule.threshold == 1 and rule.quantifier == Quantifier.ABOUT,
    ), legend


def deciding(rule: Rule, cells: Sequence[Measurement]) -> Measurement | None:
    """The measured cell a run's verdict turns on (verify.judge.verdicts.deciding_cell), or None
    for a probe's rule or a run without a complete cell."""
    full = [
        m for m in cells if m.ratio is not None and m.ci_low is not None and m.ci_high is not None
    ]
    estimates = [CellEstimate(m.cell or "", m.ratio, m.ci_low, m.ci_high) for m in full]
    found = deciding_cell(rule, estimates)
    return next((m for m, e in zip(full, estimates, strict=True) if e is found), None)


def measured_text(rule: Rule, m: Measurement) -> str:
    """A cell's ratio and 95% CI in the one format (verify.judge.numbers), in the rule's words:
    '92.9x faster (95% CI 74.6-115.7x faster)'."""
    assert m.ratio is not None
    words = ratio_words(rule)
    if words:
        return ratio_text(m.ratio, m.ci_low, m.ci_high, *words)
    if m.ci_low is None or m.ci_high is None:
        return times(m.ratio)
    return f"{times(m.ratio)} (95% CI {num(m.ci_low)}-{times(m.ci_high)})"
