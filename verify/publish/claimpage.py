"""What one claim's page says, built from SiteData: the conclusion, the decision rule in words,
the chart, the run table and history, the ClaimReview JSON-LD and the downloads."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from kg import ns
from kg.model import Check, Label, Quantifier
from kg.rows import Measurement, Run
from verify.judge.verdicts import rule_in_words, tier_name
from verify.publish.charts import ChartRow, marker_symbol, ratio_chart
from verify.publish.sitedata import STATUS, SiteData, outside_scope, safe_name, verdict_words
from verify.publish.speccurve import spec_curve

CSV_FIELDS = (
    "run", "claim_id", "environment", "environment_label", "started", "ended", "status",
    "verdict", "cell", "metric", "ratio", "ci_low", "ci_high", "confidence", "subject_value",
    "baseline_value", "processes", "sample_size", "record",
)  # fmt: skip


def conclusion(data: SiteData, claim_id: str) -> str:
    """One sentence: what the newest runs say about the claim, or why there are none."""
    c = data.claims[claim_id]
    if not c.check:
        reason = (c.not_checkable_because or "no benchmark measures it").rstrip(".")
        return f"Not checked by a benchmark: {reason}."
    latest = data.latest.get(claim_id, {})
    if not latest:
        return (
            f"Not checked yet: no run of its {c.check.benchmark} check has been recorded;"
            f" `verify run --claim {claim_id}` measures it on your machine."
        )
    by_label: dict[str, list[str]] = {}
    outside: list[str] = []
    for env_id in data.env_order:
        if env_id in latest:
            run = latest[env_id]
            label = data.env_label(env_id)
            if outside_scope(run):
                outside.append(label)  # about that environment only: neither for nor against
            else:
                by_label.setdefault(verdict_words(run), []).append(label)
    n = sum(len(v) for v in by_label.values())
    parts = []
    for words, envs in by_label.items():
        where = f"on {envs[0]}" if n == 1 else f"in {len(envs)} of {n} environments"
        parts.append(f"{words} {where}")
    if outside:
        where = outside[0] if len(outside) == 1 else f"{len(outside)} environments"
        parts.append(f"{STATUS['outside'][1]} on {where}, which counts neither for nor against it")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def rule_text(check: Check | None) -> str:
    """The decision rule in words."""
    if not check:
        return ""
    rule = check.rule
    if rule.quantifier == Quantifier.EXISTS:
        return (
            "Holds if the probe really does it on the installed versions and succeeds;"
            " does not hold if it runs and fails; deprecations and successors are reported."
        )
    return rule_in_words(rule)


def chart(data: SiteData, claim_id: str) -> tuple[Markup, list[dict]]:
    """The measured-vs-claimed chart of the newest run per environment, and its legend."""
    check = data.claims[claim_id].check
    latest = data.latest.get(claim_id, {})
    if not check or check.rule.quantifier == Quantifier.EXISTS or not latest:
        return Markup(""), []
    rows, legend = [], []
    for env_id in data.env_order:
        run = latest.get(env_id)
        cells = [m for m in data.measurements.get(run.run, []) if m.ratio] if run else []
        if not cells:
            continue
        marker = len(legend)
        legend.append({"symbol": marker_symbol(marker), "label": data.env_label(env_id)})
        label = data.env_label(env_id)
        for m in cells:
            assert m.ratio is not None
            rows.append(ChartRow(label, m.cell or "", m.ratio, m.ci_low, m.ci_high, marker))
    rule = check.rule
    svg = ratio_chart(
        rows,
        chart_id=f"chart-{claim_id}",
        claimed=rule.threshold,
        tolerance=rule.tolerance,
        subject=tier_name(rule.subject),
        baseline=tier_name(rule.baseline or "baseline"),
        title=f"Measured vs claimed ratio for {claim_id}",
        band=(rule.floor, rule.ceiling),
        tie=rule.threshold == 1 and rule.quantifier == Quantifier.ABOUT,
    )
    return svg, legend


@dataclass(frozen=True)
class HistoryRow:
    """A run in a machine's history, with its versions and the verdict it changed from."""

    run: Run
    versions: str
    flip_from: str | None


def history(data: SiteData, claim_id: str) -> list[tuple[str, list[HistoryRow]]]:
    """Runs over time per machine (across framework versions), oldest first, flips marked."""
    groups: dict[str, list[HistoryRow]] = {}
    for r in reversed(data.runs_by_claim.get(claim_id, [])):  # oldest first
        env = data.environments.get(r.environment)
        rows = groups.setdefault(env.machine if env else r.environment, [])
        before = rows[-1].run.verdict if rows else None
        flip = before if before and before != r.verdict else None
        rows.append(HistoryRow(r, env.versions if env else "", flip))
    return sorted(groups.items())


@dataclass(frozen=True)
class RunRow:
    """A row of a claim's run table."""

    run: Run
    env_label: str
    versions: str
    cells: list[Measurement]
    record_href: str | None


def run_rows(data: SiteData, claim_id: str) -> list[RunRow]:
    """The run table: newest first, each with its environment and measurements."""
    out = []
    for r in data.runs_by_claim.get(claim_id, []):
        env = data.environments.get(r.environment)
        out.append(RunRow(r, data.env_label(r.environment), env.versions if env else "",
                          data.measurements.get(r.run, []), record_href(r.record)))  # fmt: skip
    return out


def record_href(record: str | None) -> str | None:
    """Where a raw record is copied in the site (records/<environment>/<file>.json)."""
    prefix = "data/results/"
    if not record or not record.startswith(prefix) or ".." in record:
        return None
    return "records/" + record[len(prefix) :]


def claim_review(data: SiteData, claim_id: str, sentence: str) -> dict[str, Any]:
    """A schema.org ClaimReview of the claim (the vocabulary in its http:// form)."""
    c = data.claims[claim_id]
    status = data.status(claim_id)
    latest = data.latest.get(claim_id, {})
    appearances = []
    for a in c.appearances:
        doc = {"@type": "CreativeWork", "@id": ns.SRC + a.doc, "name": a.doc_name}
        source = data.sources.get(a.doc)
        if source and source.url:
            doc["url"] = source.url
        appearances.append(doc)
    review = {
        "@context": {"@vocab": ns.SCHEMA},
        "@type": "ClaimReview",
        "@id": c.iri + "#review",
        "claimReviewed": c.text,
        "itemReviewed": {
            "@type": "Claim",
            "@id": c.iri,
            "identifier": claim_id,
            "text": c.text,
            "appearance": appearances,
        },
        "reviewRating": {
            "@type": "Rating",
            "alternateName": STATUS[status][1],
            "ratingExplanation": sentence,
        },
        "reviewBody": " ".join(
            f"{data.env_label(e)}: {data.explanation(latest[e])}"
            for e in data.env_order
            if e in latest and latest[e].explanation
        )
        or sentence,
        "author": {"@type": "Organization", "name": "fwclaims"},
    }
    dates = [r.ended for r in latest.values() if r.ended]
    if dates:
        review["datePublished"] = max(dates)
    return review


def script_json(value: dict[str, Any]) -> Markup:
    """JSON for an inline <script>: '</' and '<!--' escaped so no text can end the element."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1)
    return Markup(text.replace("</", "<\\/").replace("<!--", "<\\u0021--"))


def runs_csv(data: SiteData, claim_id: str) -> str:
    """The claim's runs as CSV, one row per measured cell (a run without cells: one row)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in data.runs_by_claim.get(claim_id, []):
        base = {k: getattr(r, k) for k in CSV_FIELDS if hasattr(r, k)}
        for m in data.measurements.get(r.run, []) or [None]:
            cell = {k: getattr(m, k) for k in CSV_FIELDS if m is not None and hasattr(m, k)}
            w.writerow({**base, **cell})
    return buf.getvalue()


def exploration(data: SiteData, claim_id: str) -> dict[str, Any] | None:
    """The newest exploration of the claim: its row, sentence and specification curve."""
    found = data.explorations.get(claim_id)
    check = data.claims[claim_id].check
    if found is None or check is None:
        return None
    specs = data.specifications.get(found.run, [])
    curve = spec_curve(specs, chart_id=f"spec-{safe_name(claim_id)}", claimed=check.rule.threshold,
                       title=f"Specification curve of {claim_id}", summary=found.sentence)  # fmt: skip
    holds = sum(s.label == Label.HOLDS for s in specs)
    return {"row": found, "curve": curve, "total": len(specs), "holds": holds,
            "env_label": data.env_label(found.environment), "record_href": record_href(found.record)}  # fmt: skip
