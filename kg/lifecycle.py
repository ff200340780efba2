"""Where the products and APIs a claim names stand: deprecated, superseded, in limited maintenance.

Two kinds of evidence. A capability probe records the deprecation warnings the installed framework
gives and the successor they name (``fwc:deprecated`` / ``fwc:successor`` on the run); the newest
probe run of a claim is what counts, so a warning that goes away with a new release goes away here
too. Where nothing installable shows it (a renamed product, a tool in limited maintenance), the
claim carries ``fwc:lifecycle`` notes citing the documentation that says so. kg.changes re-exports
these functions as part of the read API.
"""

from __future__ import annotations

from kg import api
from kg.load import Corpus

# A superseded product outranks a deprecated or barely maintained one; at equal rank a probe run
# on the installed versions outranks a citation.
RANK = {"superseded": 2, "deprecated": 1, "limited-maintenance": 1}
EVIDENCE_RANK = {"probe": 1, "source": 0}


def _notes(corpus: Corpus) -> dict[str, list[dict]]:
    rows = corpus.query(
        """SELECT ?id ?product ?status ?successor ?source WHERE {
             ?c fwc:lifecycle ?n ; schema:identifier ?id .
             ?n schema:name ?product ; fwc:lifecycleStatus/skos:notation ?status .
             OPTIONAL { ?n fwc:successor ?successor }
             OPTIONAL { ?n prov:wasDerivedFrom/schema:identifier ?source } }
           ORDER BY ?id ?product"""
    )
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["id"], []).append(
            {
                "status": r["status"],
                "successor": r["successor"],
                "evidence": "source",
                "source": r["source"],
                "product": r["product"],
                "detail": _source_sentence(r),
            }
        )
    return out


def _source_sentence(r: dict) -> str:
    by = f" (source: {r['source']})" if r["source"] else ""
    if r["status"] == "superseded":
        return f"{r['product']} has been superseded by {r['successor']}{by}."
    if r["status"] == "limited-maintenance":
        return f"{r['product']} is in limited maintenance, with no further development{by}."
    instead = f" in favour of {r['successor']}" if r["successor"] else ""
    return f"{r['product']} is deprecated{instead}{by}."


def _probe_entry(claim_runs: list[dict]) -> dict | None:
    """What the newest probe run of a claim (newest first) says, if it warned or named a successor."""
    run = next((r for r in claim_runs if r["deprecated"] is not None), None)
    if run is None or not (run["deprecated"] or run["successor"]):
        return None
    date = (run["ended"] or "")[:10]
    successor = run["successor"]
    if run["deprecated"]:
        named = f"; the warning names {successor} as the successor" if successor else ""
        detail = (
            f"The probe saw a deprecation warning on {run['environment_label']} ({date}){named}."
        )
    else:
        detail = f"The probe on {run['environment_label']} ({date}) found {successor} in its place."
    return {
        "status": "deprecated" if run["deprecated"] else "superseded",
        "successor": successor,
        "evidence": "probe",
        "source": run["run"],
        "record": run["record"],
        "product": run["benchmark"],
        "detail": detail,
    }


def _combine(entries: list[dict]) -> dict | None:
    if not entries:
        return None
    ranked = sorted(
        entries, key=lambda e: (RANK[e["status"]], EVIDENCE_RANK[e["evidence"]]), reverse=True
    )
    return {**ranked[0], "notes": ranked}


def lifecycles(corpus: Corpus) -> dict[str, dict]:
    """lifecycle() for every claim that has something to say, keyed by claim id."""
    notes = _notes(corpus)
    by_claim: dict[str, list[dict]] = {}
    for r in api.runs(corpus):  # newest first
        by_claim.setdefault(r["claim_id"], []).append(r)
    out = {}
    for cid in sorted(set(notes) | set(by_claim)):
        probe = _probe_entry(by_claim.get(cid, []))
        found = _combine([*([probe] if probe else []), *notes.get(cid, [])])
        if found:
            out[cid] = found
    return out


def lifecycle(corpus: Corpus, claim_id: str) -> dict | None:
    """Where a claim's tool stands, or None when nothing says it is deprecated or superseded.

    Returns ``{"status": "deprecated" | "superseded" | "limited-maintenance", "successor",
    "evidence": "probe" | "source", "source": run id or source id, "product", "detail": sentence,
    "notes": every entry, strongest first}``; the top level is the strongest entry (superseded
    over deprecated, then probe over source), and probe entries also carry the record's path.
    """
    api.claim_check(corpus, claim_id)  # raises UnknownClaim for an unknown id
    probe = _probe_entry(api.runs(corpus, claim_id))
    notes = _notes(corpus).get(claim_id, [])
    return _combine([*([probe] if probe else []), *notes])


def lifecycle_label(lc: dict | None, verdict: str | None = None) -> str:
    """How a verdict reads with its lifecycle: 'holds, deprecated', 'holds, superseded by LiteRT'."""
    parts = [verdict] if verdict else []
    if lc:
        if lc["status"] == "superseded" and lc.get("successor"):
            parts.append(f"superseded by {lc['successor']}")
        else:
            parts.append(lc["status"].replace("-", " "))
    return ", ".join(parts)
