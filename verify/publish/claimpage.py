"""What one claim's page says, built from SiteData: the conclusion, its checks (checkview), the
runs table (runstable), the published numbers by pair (evidencepairs), the ratio against
version (versionplot), the history, the ClaimReview JSON-LD and the downloads."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from kg import ns
from kg.model import Label
from kg.rows import Run
from verify.publish.checkview import COMBINE_WORDS, check_views, env_verdicts
from verify.publish.evidencepairs import evidence_rows
from verify.publish.runstable import record_href, run_rows
from verify.publish.sitedata import STATUS, SiteData, safe_name
from verify.publish.speccurve import spec_curve
from verify.publish.versionplot import version_plots

CSV_FIELDS = (
    "run", "claim_id", "environment", "environment_label", "started", "ended", "status",
    "verdict", "cell", "metric", "ratio", "ci_low", "ci_high", "confidence", "subject_value",
    "baseline_value", "processes", "sample_size", "record",
)  # fmt: skip


def conclusion(data: SiteData, claim_id: str) -> str:
    """One sentence: what the newest runs say about the claim (its checks combined where it has
    several), or why there are none."""
    c = data.claims[claim_id]
    if not c.checks:
        reason = (c.not_checkable_because or "no benchmark measures it").rstrip(".")
        return f"Not checked by a benchmark: {reason}."
    verdicts = env_verdicts(data, claim_id)
    if not verdicts:
        what = (f"its {c.checks[0].benchmark} check" if len(c.checks) == 1
                else f"any of its {len(c.checks)} checks")  # fmt: skip
        return (
            f"Not checked yet: no run of {what} has been recorded;"
            f" `verify run --claim {claim_id}` measures it on your machine."
        )
    by_label: dict[str, list[str]] = {}
    outside: list[str] = []
    for v in verdicts:
        if v.status == "outside":
            outside.append(v.label)  # about that environment only: neither for nor against
        else:
            by_label.setdefault(v.words, []).append(v.label)
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


def page_parts(data: SiteData, claim_id: str) -> dict[str, Any]:
    """What the claim page shows of its checks, runs and published numbers: each check with its
    chart, the verdict per environment (combined for several checks), the runs table, the
    published numbers by matched pair and the ratio-against-version plots."""
    c = data.claims[claim_id]
    verdicts = env_verdicts(data, claim_id)
    here = next((v for v in verdicts if v.env == data.here), None)
    return {
        "checks": check_views(data, claim_id),
        "several": len(c.checks) > 1,
        "combine_words": COMBINE_WORDS[c.combine],
        "env_verdicts": verdicts,
        "here_combined": here if here and here.checks else None,
        "runs": run_rows(data, claim_id),
        "evidence_rows": evidence_rows(data, claim_id),
        "version_plots": version_plots(data, claim_id),
    }


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
    # an exploration varies the setup of the claim's ratio check (records do not name one)
    check = next((k for k in data.claims[claim_id].checks if k.rule.quantifier != "exists"), None)
    if found is None or check is None:
        return None
    specs = data.specifications.get(found.run, [])
    curve = spec_curve(specs, chart_id=f"spec-{safe_name(claim_id)}", claimed=check.rule.threshold,
                       title=f"Specification curve of {claim_id}", summary=found.sentence)  # fmt: skip
    holds = sum(s.label == Label.HOLDS for s in specs)
    return {"row": found, "curve": curve, "total": len(specs), "holds": holds,
            "env_label": data.env_label(found.environment), "record_href": record_href(found.record)}  # fmt: skip
