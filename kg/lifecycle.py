"""Where the products and APIs a claim names stand: deprecated, superseded, in limited maintenance.

Two kinds of evidence. A capability probe records the deprecation warnings the installed framework
gives and the successor they name (``fwc:deprecated`` / ``fwc:successor`` on the run); the newest
probe run of a claim is what counts, so a warning that goes away with a new release goes away here
too. Where nothing installable shows it (a renamed product, a tool in limited maintenance), the
claim carries ``fwc:lifecycle`` notes citing the documentation that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kg import api
from kg.rows import Run
from kg.store import Corpus

# A superseded product outranks a deprecated or barely maintained one; at equal rank a probe run
# on the installed versions outranks a citation.
RANK = {"superseded": 2, "deprecated": 1, "limited-maintenance": 1}
EVIDENCE_RANK = {"probe": 1, "source": 0}


@dataclass(frozen=True)
class Note:
    """One piece of evidence about a tool's life: from a probe run or a cited source."""

    status: str  # deprecated | superseded | limited-maintenance
    successor: str | None
    evidence: str  # probe | source
    source: str | None  # the run id or the source id
    product: str | None
    detail: str  # one sentence
    record: str | None = None  # a probe run's record


@dataclass(frozen=True)
class Lifecycle:
    """Every note about a claim's tool, strongest first; the first one is what a label shows."""

    notes: list[Note]

    @property
    def top(self) -> Note:
        """The strongest note (superseded over deprecated, then probe over source)."""
        return self.notes[0]

    @property
    def status(self) -> str:
        """The strongest note's status."""
        return self.top.status

    @property
    def successor(self) -> str | None:
        """The strongest note's successor, if it names one."""
        return self.top.successor


def _notes(corpus: Corpus) -> dict[str, list[Note]]:
    rows = corpus.query(
        """SELECT ?id ?product ?status ?successor ?source WHERE {
             ?c fwc:lifecycle ?n ; schema:identifier ?id .
             ?n schema:name ?product ; fwc:lifecycleStatus/skos:notation ?status .
             OPTIONAL { ?n fwc:successor ?successor }
             OPTIONAL { ?n prov:wasDerivedFrom/schema:identifier ?source } }
           ORDER BY ?id ?product"""
    )
    out: dict[str, list[Note]] = {}
    for r in rows:
        out.setdefault(r["id"], []).append(
            Note(r["status"], r["successor"], "source", r["source"], r["product"], _sentence(r))
        )
    return out


def _sentence(r: dict[str, Any]) -> str:
    by = f" (source: {r['source']})" if r["source"] else ""
    if r["status"] == "superseded":
        return f"{r['product']} has been superseded by {r['successor']}{by}."
    if r["status"] == "limited-maintenance":
        return f"{r['product']} is in limited maintenance, with no further development{by}."
    instead = f" in favour of {r['successor']}" if r["successor"] else ""
    return f"{r['product']} is deprecated{instead}{by}."


def _probe_note(claim_runs: list[Run]) -> Note | None:
    """What the newest probe run of a claim (newest first) says, if it warned or named a successor."""
    run = next((r for r in claim_runs if r.deprecated is not None), None)
    if run is None or not (run.deprecated or run.successor):
        return None
    date = (run.ended or "")[:10]
    if run.deprecated:
        named = f"; the warning names {run.successor} as the successor" if run.successor else ""
        detail = f"The probe saw a deprecation warning on {run.environment_label} ({date}){named}."
    else:
        detail = (
            f"The probe on {run.environment_label} ({date}) found {run.successor} in its place."
        )
    return Note("deprecated" if run.deprecated else "superseded", run.successor, "probe",
                run.run, run.benchmark, detail, run.record)  # fmt: skip


def _combine(notes: list[Note]) -> Lifecycle | None:
    if not notes:
        return None
    key = lambda n: (RANK[n.status], EVIDENCE_RANK[n.evidence])  # noqa: E731
    return Lifecycle(sorted(notes, key=key, reverse=True))


def lifecycles(corpus: Corpus) -> dict[str, Lifecycle]:
    """Where each claim's tool stands, for every claim that has something to say, by claim id."""
    notes = _notes(corpus)
    by_claim: dict[str, list[Run]] = {}
    for r in api.runs(corpus):  # newest first
        by_claim.setdefault(r.claim_id, []).append(r)
    out = {}
    for cid in sorted(set(notes) | set(by_claim)):
        probe = _probe_note(by_claim.get(cid, []))
        found = _combine([*([probe] if probe else []), *notes.get(cid, [])])
        if found:
            out[cid] = found
    return out


def lifecycle_label(lc: Lifecycle | None, verdict: str | None = None) -> str:
    """How a verdict reads with its lifecycle: 'holds, deprecated', 'holds, superseded by LiteRT'."""
    parts = [verdict] if verdict else []
    if lc:
        if lc.status == "superseded" and lc.successor:
            parts.append(f"superseded by {lc.successor}")
        else:
            parts.append(lc.status.replace("-", " "))
    return ", ".join(parts)
